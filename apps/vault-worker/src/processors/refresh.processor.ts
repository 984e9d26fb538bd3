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
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
  }

  async process(job: Job<RefreshJob>): Promise<string> {
    this.metrics.refreshLag.observe(Math.max(0, Date.now() - job.data.dueAt) / 1000);
    return (await this.refresher.refresh(job.data.connectionId, 'scheduled')).outcome;
  }
}
