import { LRUCache } from 'lru-cache';
import type { TokenRow } from '@vault/persistence';
import { isFresh } from './freshness';

export interface TokenRowCacheOptions {
  /**
   * The longest a row may be answered from memory, counted from the moment its read from PostgreSQL began:
   * what bounds staleness when an invalidation is lost (TOKEN_CACHE_MAX_AGE_MS).
   */
  maxAgeMs: number;
  /** Rows kept at most (least recently used first out; TOKEN_CACHE_MAX_ENTRIES). */
  maxEntries: number;
  /** The clock in milliseconds (Date.now; tests pass a fake one). */
  now: () => number;
}

export type TokenCacheResult = 'hit' | 'miss' | 'bypass';

/** A read of PostgreSQL under way for one connection; `stale` once an invalidation for it arrived meanwhile. */
interface Load {
  promise: Promise<TokenRow | null>;
  stale: boolean;
}

/**
 * A bounded in-process copy of token rows (access tokens stay sealed, as stored), in front of the hot path's
 * primary-key read. It holds only rows that could be answered (an active or refresh_failing connection with
 * an unexpired token); whether a row suits the caller's `min_ttl`, its tenant and its status are judged by
 * TokenService on the cached row exactly as on a stored one.
 *
 * Correctness rests on three rules:
 * - every committed write to a connection invalidates its entry here and on every other instance
 *   (`ConnectionChangeSink` → Redis pub/sub → `invalidate`); a read of PostgreSQL that was under way when an
 *   invalidation arrived is answered but not kept, so an old row can never be stored after its invalidation;
 * - an entry is answered for at most `maxAgeMs` after its read began, whatever happens to the messages;
 * - the cache is live only while this instance is subscribed to the invalidations (`setLive`): while the
 *   subscription is down every read goes to PostgreSQL, and everything cached is dropped when it comes back.
 * Concurrent misses of one connection share one read.
 */
export class TokenRowCache {
  private readonly rows: LRUCache<string, TokenRow>;
  private readonly loads = new Map<string, Load>();
  private live = false;
  /** Changes on every clear: a load begun before it is not kept. */
  private epoch = 0;

  constructor(
    private readonly options: TokenRowCacheOptions,
    private readonly count: (result: TokenCacheResult) => void = () => undefined,
  ) {
    this.rows = new LRUCache<string, TokenRow>({
      max: Math.max(1, options.maxEntries),
      ttl: Math.max(1, options.maxAgeMs),
      ttlResolution: 0,
      perf: { now: options.now },
    });
  }

  /** Whether reads are served from memory (subscribed to invalidations, and a maximum age above 0). */
  get isLive(): boolean {
    return this.live;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Turns the cache on (subscribed) or off (subscription lost); either way, everything held is dropped. */
  setLive(live: boolean): void {
    this.clear();
    this.live = live && this.options.maxAgeMs > 0;
  }

  /**
   * The row of `id`: from memory while live (`cached: true`), else from `load` (PostgreSQL), kept if it could
   * be answered and nothing invalidated it while it was read.
   */
  async read(
    id: string,
    load: (id: string) => Promise<TokenRow | null>,
  ): Promise<{ row: TokenRow | null; cached: boolean }> {
    if (!this.live) {
      this.count('bypass');
      return { row: await load(id), cached: false };
    }
    const hit = this.rows.get(id);
    if (hit) {
      this.count('hit');
      return { row: hit, cached: true };
    }
    this.count('miss');
    const pending = this.loads.get(id) ?? this.startLoad(id, load);
    return { row: await pending.promise, cached: false };
  }

  /**
   * The row of `id` if it is in memory and the cache is live, without counting it: the synchronous hot path
   * (TokenService.cachedToken) looks first and counts a hit with `answered()` only when it answered from it.
   */
  peek(id: string): TokenRow | undefined {
    return this.live ? this.rows.get(id) : undefined;
  }

  /** Counts a hit answered from `peek`. */
  answered(): void {
    this.count('hit');
  }

  /** Drops the entries of `ids` (or all) and keeps no read of them that is under way. */
  invalidate(ids: readonly string[] | 'all'): void {
    if (ids === 'all') {
      this.clear();
      return;
    }
    for (const id of ids) {
      this.rows.delete(id);
      const pending = this.loads.get(id);
      if (pending) {
        pending.stale = true;
        this.loads.delete(id);
      }
    }
  }

  private clear(): void {
    this.epoch += 1;
    this.rows.clear();
    for (const pending of this.loads.values()) pending.stale = true;
    this.loads.clear();
  }

  private startLoad(id: string, load: (id: string) => Promise<TokenRow | null>): Load {
    const startedAt = this.options.now();
    const epoch = this.epoch;
    const pending: Load = { stale: false, promise: Promise.resolve(null) };
    const settle = () => {
      if (this.loads.get(id) === pending) this.loads.delete(id);
    };
    pending.promise = load(id).then(
      (row) => {
        settle();
        const ttl = this.options.maxAgeMs - (this.options.now() - startedAt);
        const keep = !pending.stale && epoch === this.epoch && this.live && ttl > 0;
        if (keep && row && isFresh(row, 0, this.options.now())) this.rows.set(id, ownCopy(row), { ttl });
        return row;
      },
      (err: unknown) => {
        settle();
        throw err;
      },
    );
    this.loads.set(id, pending);
    return pending;
  }
}

/**
 * The row with its sealed token in a buffer of its own: the driver's small buffers are slices of a shared 8 KiB
 * pool, and keeping one for long would keep the whole pool alive (about 1 KB per entry instead of 8).
 */
function ownCopy(row: TokenRow): TokenRow {
  const sealed = row.accessTokenSealed;
  if (!sealed) return row;
  const own = Buffer.allocUnsafeSlow(sealed.length);
  sealed.copy(own);
  return { ...row, accessTokenSealed: own };
}
