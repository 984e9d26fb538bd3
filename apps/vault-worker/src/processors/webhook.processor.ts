import { Inject } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import {
  MetricsService,
  OUTBOUND_FETCH,
  VAULT_CONFIG,
  WEBHOOK_QUEUE,
  sendWebhook,
  type VaultConfig,
  type WebhookJob,
} from '@vault/core';
import type { OutboundFetch } from '@vault/providers';
import type { Job } from 'bullmq';

/**
 * Delivers webhooks, signed, through the guarded outbound fetch (URL rules checked on the address connected to,
 * redirects not followed); BullMQ retries failures with exponential backoff.
 */
@Processor(WEBHOOK_QUEUE)
export class WebhookProcessor extends WorkerHost {
  constructor(
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
    @Inject(OUTBOUND_FETCH) private readonly fetch: OutboundFetch,
  ) {
    super();
  }

  async process(job: Job<WebhookJob>): Promise<void> {
    const { WEBHOOK_URL: url, WEBHOOK_SECRET: secret } = this.config;
    if (!url || !secret) return;
    try {
      await sendWebhook(this.fetch, url, secret, job.data, job.id ?? `${job.name}-${job.timestamp}`);
      this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
    } catch (err) {
      this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
      throw err;
    }
  }
}
