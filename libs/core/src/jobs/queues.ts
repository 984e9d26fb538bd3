import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** BullMQ queues and their payloads. Payloads carry IDs only, never a secret: failed jobs stay in Redis. */
export const REFRESH_QUEUE = 'refresh';
export const WEBHOOK_QUEUE = 'webhooks';
export const KEY_ROTATION_QUEUE = 'key-rotation';

/**
 * Connections due within about a second of each other, refreshed by one job: BullMQ's own bookkeeping costs
 * dozens of Redis commands per job, so batching keeps the worker's CPU on the refreshes themselves.
 */
export interface RefreshJob {
  items: { connectionId: string; /** when it was due (epoch ms), for the lag metric */ dueAt: number }[];
}

export interface WebhookJob {
  /** Event type and IDs of what it is about; the receiver reads details from the API. */
  type:
    | 'connection.needs_reauth'
    | 'connection.reauthorized'
    | 'connection.reauth_due'
    | 'integration.credentials_rejected';
  occurredAt: string;
  data: Record<string, string>;
}

/** A key rotation job: retiring one data key (re-seal, then delete), or re-wrapping every data key. */
export type KeyRotationJob = { kind: 'retire_data_key'; dataKeyId: string } | { kind: 'rewrap_data_keys' };

/**
 * BullMQ's own ioredis connection: ioredis reads REDIS_URL (user, password, db, `rediss:`), BullMQ needs
 * `maxRetriesPerRequest: null`, and it connects when BullMQ first uses it. Whoever creates it closes it.
 */
export function bullConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
}

/**
 * Logs a queue's connection errors, once per outage: without a listener BullMQ prints every reconnection
 * failure to the console while Redis is down. BullMQ reconnects by itself.
 */
export function watchQueue<Q extends Pick<Queue, 'on' | 'name'>>(queue: Q): Q {
  const logger = new Logger('Queues');
  let down = false;
  queue.on('error', (err: Error) => {
    if (!down) logger.warn({ queue: queue.name, error: err.name }, 'queue connection lost; retrying');
    down = true;
  });
  return queue;
}

/**
 * The job ID makes duplicates collapse: the same claim of the same connections makes the same job. The claim's
 * lease is part of it, so a connection claimed again after its job was lost (a killed worker's job still
 * marked active in BullMQ) gets a new job instead of collapsing into the dead one.
 */
export function refreshJobId(items: RefreshJob['items'], claimedUntil: Date): string {
  const h = createHash('sha1');
  h.update(`${claimedUntil.getTime()};`);
  for (const i of items) h.update(`${i.connectionId}:${i.dueAt};`);
  return `r-${h.digest('hex')}`;
}
