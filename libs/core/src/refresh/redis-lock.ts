import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface HeldLock {
  readonly key: string;
  readonly owner: string;
  release(): Promise<boolean>;
}

/**
 * A per-key lock in Redis: `SET key owner NX PX ttl`, released only by its owner (compare-and-delete in
 * Lua). The TTL must outlive the work it guards (the provider call's timeout plus margin), so a lock is never
 * lost mid-call; a crashed holder's lock expires on its own.
 */
export class RedisLocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  keyFor(name: string): string {
    return `${this.prefix}:lock:${name}`;
  }

  async tryAcquire(name: string, ttlMs: number): Promise<HeldLock | null> {
    const key = this.keyFor(name);
    const owner = randomUUID();
    const ok = await this.redis.set(key, owner, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return {
      key,
      owner,
      release: async () => (await this.redis.eval(RELEASE, 1, key, owner)) === 1,
    };
  }

  async isHeld(name: string): Promise<boolean> {
    return (await this.redis.exists(this.keyFor(name))) === 1;
  }
}
