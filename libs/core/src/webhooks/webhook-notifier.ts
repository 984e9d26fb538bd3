import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { WebhookJob } from '../jobs/queues';
import type { IntegrationRejectedEvent, NeedsReauthEvent, RefreshEvents } from '../refresh/refresh.types';

/** What a connection webhook names: the receiver reads the rest from the API. */
export interface ConnectionRef {
  connectionId: string;
  tenantId: string;
  integration: string;
  provider: string;
}

function connectionData(e: ConnectionRef): Record<string, string> {
  return {
    connection_id: e.connectionId,
    tenant_id: e.tenantId,
    integration: e.integration,
    provider: e.provider,
  };
}

/**
 * Turns refresh events into webhook jobs (delivered by the worker with retries). Without WEBHOOK_URL the
 * events stay in the connection history and metrics only.
 */
export class WebhookNotifier implements RefreshEvents {
  private readonly logger = new Logger('Webhooks');

  constructor(private readonly queue: Queue | null) {}

  needsReauth(e: NeedsReauthEvent): void {
    this.enqueue({
      type: 'connection.needs_reauth',
      occurredAt: new Date().toISOString(),
      data: { ...connectionData(e), reason: e.reason },
    });
  }

  /** A connect session re-consented the connection: same ID, active again. */
  reauthorized(e: ConnectionRef): void {
    this.enqueue({
      type: 'connection.reauthorized',
      occurredAt: new Date().toISOString(),
      data: connectionData(e),
    });
  }

  /** The connection's refresh token dies within REAUTH_WARNING_DAYS: show the user a re-consent link. */
  reauthDue(e: ConnectionRef & { refreshTokenExpiresAt: Date }): void {
    this.enqueue({
      type: 'connection.reauth_due',
      occurredAt: new Date().toISOString(),
      data: { ...connectionData(e), refresh_token_expires_at: e.refreshTokenExpiresAt.toISOString() },
    });
  }

  integrationRejected(e: IntegrationRejectedEvent): void {
    this.enqueue({
      type: 'integration.credentials_rejected',
      occurredAt: new Date().toISOString(),
      data: { integration: e.integration, provider: e.provider, reason: e.reason },
    });
  }

  private enqueue(job: WebhookJob): void {
    if (!this.queue) return;
    this.queue
      .add(job.type, job, {
        jobId: randomUUID(), // the delivery ID: unique even if Redis is flushed and BullMQ's counter restarts
        attempts: 12,
        backoff: { type: 'exponential', delay: 5_000 },
        removeOnComplete: 1000,
        removeOnFail: 5000,
      })
      .catch((err: unknown) => this.logger.error({ err, type: job.type }, 'could not enqueue a webhook'));
  }
}
