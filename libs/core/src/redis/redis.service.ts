import { Redis } from 'ioredis';

/**
 * One Redis connection per process for commands (locks, pub/sub publishing, health), with the configured key
 * prefix. Redis holds only locks and near-due work: losing it loses no token and no schedule.
 */
export class RedisService {
  readonly client: Redis;

  constructor(
    url: string,
    readonly prefix: string,
  ) {
    this.client = new Redis(url, { maxRetriesPerRequest: 2, enableReadyCheck: true, lazyConnect: false });
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
