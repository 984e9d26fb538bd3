import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisCall } from '../redis/redis.service';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface HeldLock {
  readonly name: string;
  readonly key: string;
  readonly owner: string;
  release(): Promise<boolean>;
  /** Sets a new TTL from now, only while still the owner. */
  extend(ttlMs: number): Promise<boolean>;
}

/**
 * A per-key lock in Redis: `SET key owner NX PX ttl`, released only by its owner (compare-and-delete in
 * Lua). The TTL must outlive the work it guards (the provider call's timeout plus margin), so a lock is never
 * lost mid-call; a crashed holder's lock expires on its own. Many locks can be taken and released in one
 * round trip each (a batch of scheduled refreshes).
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
    return (await this.tryAcquireMany([name], ttlMs)).get(name) ?? null;
  }

  /** Tries every lock in one pipeline; answers the ones obtained, by name. */
  async tryAcquireMany(names: string[], ttlMs: number): Promise<Map<string, HeldLock>> {
    const held = new Map<string, HeldLock>();
    if (names.length === 0) return held;
    const owners = names.map(() => randomUUID());
    const pipeline = this.redis.pipeline();
    names.forEach((name, i) => pipeline.set(this.keyFor(name), owners[i] ?? '', 'PX', ttlMs, 'NX'));
    const answers = (await redisCall(pipeline.exec())) ?? [];
    names.forEach((name, i) => {
      const [err, ok] = answers[i] ?? [null, null];
      const owner = owners[i];
      if (!err && ok === 'OK' && owner) held.set(name, this.handle(name, owner));
    });
    return held;
  }

  /** Releases many locks in one pipeline (each only if still owned). */
  async releaseMany(locks: HeldLock[]): Promise<void> {
    if (locks.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const l of locks) pipeline.eval(RELEASE, 1, l.key, l.owner);
    await redisCall(pipeline.exec());
  }

  /** Sets each lock's own TTL from now, in one pipeline; answers the locks that were no longer ours. */
  async extendMany(locks: { lock: HeldLock; ttlMs: number }[]): Promise<HeldLock[]> {
    if (locks.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { lock, ttlMs } of locks) pipeline.eval(EXTEND, 1, lock.key, lock.owner, String(ttlMs));
    const answers = (await redisCall(pipeline.exec())) ?? [];
    return locks.filter((_, i) => answers[i]?.[0] === null && answers[i]?.[1] !== 1).map((l) => l.lock);
  }

  async isHeld(name: string): Promise<boolean> {
    return (await redisCall(this.redis.exists(this.keyFor(name)))) === 1;
  }

  private handle(name: string, owner: string): HeldLock {
    const key = this.keyFor(name);
    return {
      name,
      key,
      owner,
      release: async () => (await this.redis.eval(RELEASE, 1, key, owner)) === 1,
      extend: async (ttlMs: number) => (await this.redis.eval(EXTEND, 1, key, owner, String(ttlMs))) === 1,
    };
  }
}
