import type { AccessToken } from './types';

interface Entry {
  token: AccessToken;
  /** When the token expires, on this process's clock. */
  expiresAt: number;
}

/**
 * Access tokens by connection ID, each kept until its expiry minus the caller's `minTtl`. Bounded: past
 * `max` entries the one fetched longest ago is dropped.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max: number) {}

  /** The cached token if it stays valid for `minTtlMs` from `now`. */
  get(connectionId: string, minTtlMs: number, now: number): AccessToken | undefined {
    const e = this.entries.get(connectionId);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(connectionId);
      return undefined;
    }
    return e.expiresAt - minTtlMs > now ? e.token : undefined;
  }

  /** Keeps the token unless the one already cached lives longer. */
  set(connectionId: string, token: AccessToken, expiresAt: number): void {
    const held = this.entries.get(connectionId);
    if (held && held.expiresAt > expiresAt) return;
    this.entries.delete(connectionId);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(connectionId, { token, expiresAt });
  }

  delete(connectionId: string): void {
    this.entries.delete(connectionId);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * `expires_at` (the vault's clock) moved onto this process's clock, never later than it says. The answer's
 * `Date` header (whole seconds) bounds the vault's clock at the answer: at most Date + 1 s while ours read at
 * least `sentAt`, so a vault clock ahead of ours shortens the token's life here by that much (at most ~1 s
 * when the clocks agree).
 */
export function localExpiry(expiresAt: number, serverDate: number | null, sentAt: number): number {
  if (serverDate === null) return expiresAt;
  return expiresAt - Math.max(0, serverDate + 1000 - sentAt);
}
