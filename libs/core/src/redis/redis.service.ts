import { Logger } from '@nestjs/common';
import { Redis, ReplyError } from 'ioredis';

/** Redis cannot be reached (refused, reset, or no answer within REDIS_COMMAND_TIMEOUT_MS): 503 `unavailable`. */
export class RedisUnavailable extends Error {
  override readonly name = 'RedisUnavailable';
  constructor(options?: { cause?: unknown }) {
    super('redis unavailable', options);
  }
}

/**
 * Runs one Redis command for the refresh engine: any failure but Redis's own reply error (a bug of ours)
 * becomes RedisUnavailable, which the API answers 503 `unavailable` with Retry-After.
 */
export async function redisCall<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (err) {
    if (err instanceof ReplyError) throw err;
    throw new RedisUnavailable({ cause: err });
  }
}

/**
 * One Redis connection per process for commands (locks, pub/sub publishing, health), with the configured key
 * prefix. Redis holds only locks and near-due work: losing it loses no token and no schedule.
 */
export class RedisService {
  readonly client: Redis;
  private readonly logger = new Logger('Redis');
  private down = false;

  /** `commandTimeoutMs` bounds every command: an unreachable Redis fails fast instead of hanging callers. */
  constructor(
    url: string,
    readonly prefix: string,
    commandTimeoutMs = 1000,
  ) {
    this.client = new Redis(url, {
      maxRetriesPerRequest: 1,
      commandTimeout: commandTimeoutMs,
      enableReadyCheck: true,
      lazyConnect: false,
    });
    // Reconnection goes on by itself; an outage is logged once, not once per attempt.
    this.client.on('error', (err: Error) => {
      if (this.down) return;
      this.down = true;
      this.logger.warn({ error: err.name }, 'redis unreachable; retrying');
    });
    this.client.on('ready', () => {
      if (this.down) this.logger.log('redis reachable again');
      this.down = false;
    });
  }

  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async ping(): Promise<void> {
    const answer = await this.client.ping();
    if (answer !== 'PONG') throw new Error('redis did not answer PONG');
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
