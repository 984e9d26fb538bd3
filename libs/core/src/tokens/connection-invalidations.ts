import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ConnectionChangeSink } from '@vault/persistence';
import type { RedisService } from '../redis/redis.service';
import type { TokenRowCache } from './token-row-cache';

/** What a message carries: comma-separated connection IDs, or `*` for every connection. */
const ALL = '*';

/**
 * The one place a committed write to a connection is announced (persistence's repositories call
 * `connectionsChanged`, see connection-changes.ts): this process's token cache drops the rows at once, and a
 * message on the Redis channel `<REDIS_PREFIX>:connections:changed` tells every other API instance to.
 *
 * Every process announces (the worker's refreshes too); API processes (`subscribe`) also listen, on a
 * connection of their own, and keep their cache live only while subscribed: when that connection closes the
 * cache is turned off (reads go to PostgreSQL), and it is turned on again, empty, once the subscription is
 * back, since messages may have been lost in between. A message lost while the connection looks healthy is
 * covered by the cache's maximum age.
 */
export class ConnectionInvalidations
  implements ConnectionChangeSink, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('TokenCache');
  private readonly channel: string;
  private subscriber: Redis | null = null;
  private lastPublishWarning = 0;

  constructor(
    private readonly redis: RedisService,
    private readonly cache: TokenRowCache,
    private readonly options: { subscribe: boolean },
  ) {
    this.channel = redis.key('connections', 'changed');
  }

  connectionsChanged(ids: readonly string[] | 'all'): void {
    if (ids !== 'all' && ids.length === 0) return;
    this.cache.invalidate(ids);
    const message = ids === 'all' ? ALL : ids.join(',');
    this.redis.client.publish(this.channel, message).catch((err: unknown) => this.publishFailed(err));
  }

  onApplicationBootstrap(): void {
    if (this.options.subscribe) this.subscribe();
  }

  async onApplicationShutdown(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    this.cache.setLive(false);
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private subscribe(): void {
    // Own connection (a subscribed connection runs no other command); re-subscribed by hand on every `ready`
    // so that the cache turns live only once the subscription is confirmed.
    const subscriber = this.redis.client.duplicate({ autoResubscribe: false, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.cache.invalidate(message === ALL ? 'all' : message.split(','));
    });
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(
        () => {
          if (this.subscriber === subscriber && subscriber.status === 'ready') this.cache.setLive(true);
        },
        // The connection dropped meanwhile: `close` turned the cache off, the next `ready` tries again.
        () => undefined,
      );
    });
    subscriber.on('close', () => {
      if (this.cache.isLive) this.logger.warn('token cache off: the invalidation channel is disconnected');
      this.cache.setLive(false);
    });
    // Connection errors end in `close`; without a listener ioredis would print them.
    subscriber.on('error', () => undefined);
  }

  private publishFailed(err: unknown): void {
    // Other instances then rely on the cache's maximum age. At most one warning a minute.
    const now = Date.now();
    if (now - this.lastPublishWarning < 60_000) return;
    this.lastPublishWarning = now;
    this.logger.warn(
      { err },
      'could not publish a connection invalidation; other instances catch up within TOKEN_CACHE_MAX_AGE_MS',
    );
  }
}
