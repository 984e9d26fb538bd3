import type { Redis } from 'ioredis';
import { redisCall } from '../redis/redis.service';

/** What the refresh engine needs of the rate-limit state: is an integration slowed down, and slow it down. */
export interface RateLimits {
  /** Seconds this integration is still slowed down for (0 when it is not). */
  limitedFor(integrationId: string): Promise<number>;
  slowDown(integrationId: string, seconds: number): Promise<void>;
}

/**
 * Per-integration slow-down after a 429, in Redis so every process honours it: the key holds the time until
 * which no refresh of the integration may call the provider, and expires then. Each process caches what it
 * read for a second per integration, so a busy worker does not pay a Redis round trip per refresh for it.
 */
export class RedisRateLimits implements RateLimits {
  private readonly cache = new Map<string, { until: number; checkedAt: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: () => number = Date.now,
  ) {}

  private key(integrationId: string): string {
    return `${this.prefix}:ratelimit:${integrationId}`;
  }

  async limitedFor(integrationId: string): Promise<number> {
    const now = this.clock();
    let entry = this.cache.get(integrationId);
    if (!entry || entry.checkedAt < now - 1000) {
      const until = Number(await redisCall(this.redis.get(this.key(integrationId)))) || 0;
      entry = { until, checkedAt: now };
      this.cache.set(integrationId, entry);
    }
    return entry.until > now ? (entry.until - now) / 1000 : 0;
  }

  async slowDown(integrationId: string, seconds: number): Promise<void> {
    const ms = Math.max(1000, Math.round(seconds * 1000));
    const now = this.clock();
    const until = now + ms;
    this.cache.set(integrationId, { until, checkedAt: now });
    await redisCall(this.redis.set(this.key(integrationId), String(until), 'PX', ms));
  }
}
