import { Logger } from '@nestjs/common';
import type { HeldLock, RedisLocks } from './redis-lock';

/**
 * Keeps each held refresh lock alive while its own work runs (design section 4): every `everyMs` it sets each
 * lock's own TTL again, in one pipeline for all of them. A lock therefore outlives its call, its retry and a
 * write retried through an outage, whatever else its batch is doing; a dead holder's lock still expires one
 * TTL after its last renewal. `everyMs` must be well under the shortest TTL (a third of it).
 */
export class LockKeeper {
  private readonly logger = new Logger('Refresh');
  private readonly held = new Map<HeldLock, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly locks: Pick<RedisLocks, 'extendMany'>,
    private readonly everyMs: number,
  ) {}

  /** Keeps `lock` alive with `ttlMs` until `drop(lock)`; calling again changes its TTL. */
  keep(lock: HeldLock, ttlMs: number): void {
    this.held.set(lock, ttlMs);
    if (!this.timer) {
      this.timer = setInterval(() => void this.renew(), this.everyMs);
      this.timer.unref();
    }
  }

  drop(lock: HeldLock): void {
    this.held.delete(lock);
    if (this.held.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async renew(): Promise<void> {
    const entries = [...this.held].map(([lock, ttlMs]) => ({ lock, ttlMs }));
    try {
      for (const lost of await this.locks.extendMany(entries)) {
        // Its write is still fenced by version; another refresher may now take the connection.
        this.logger.warn({ connectionId: lost.name }, 'a refresh lock expired while its work was running');
        this.drop(lost);
      }
    } catch (err) {
      this.logger.warn({ error: errorName(err) }, 'refresh locks could not be renewed (Redis unreachable?)');
    }
  }
}

/** An error's class name only: driver and SDK messages may echo values, never worth a secret in a log. */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
