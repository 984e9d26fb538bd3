import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import {
  MetricsService,
  REFRESH_QUEUE,
  RefreshService,
  VAULT_CONFIG,
  type RefreshJob,
  type VaultConfig,
} from '@vault/core';
import type { Job } from 'bullmq';

/** Runs scheduled refreshes: one job per due connection; the refresh service does the rest. */
@Processor(REFRESH_QUEUE)
export class RefreshProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    @Inject(RefreshService) private readonly refresher: RefreshService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // WORKER_CONCURRENCY counts refreshes in flight; each job carries up to REFRESH_JOB_BATCH_SIZE of them.
    this.worker.concurrency = Math.max(
      1,
      Math.ceil(this.config.WORKER_CONCURRENCY / this.config.REFRESH_JOB_BATCH_SIZE),
    );
  }

  async process(job: Job<RefreshJob>): Promise<Record<string, number>> {
    const now = Date.now();
    for (const { dueAt } of job.data.items) this.metrics.refreshLag.observe(Math.max(0, now - dueAt) / 1000);
    const outcomes: Record<string, number> = {};
    for (const o of await this.refresher.refreshScheduledBatch(job.data.items.map((i) => i.connectionId))) {
      outcomes[o] = (outcomes[o] ?? 0) + 1;
    }
    return outcomes;
  }
}
