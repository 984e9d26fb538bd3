import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  ALL_TENANTS,
  ConnectionsRepository,
  CONNECTION_STATUSES,
  EventsRepository,
} from '@vault/persistence';
import { PROVIDER_NAMES } from '@vault/providers';
import { MetricsService, SweepService, VAULT_CONFIG, type VaultConfig } from '@vault/core';

const HOUR_MS = 3600_000;

/** The worker's timers (@nestjs/schedule): the due-work sweep, the connections gauge and history retention. */
@Injectable()
export class WorkerScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('Sweep');

  constructor(
    @Inject(SchedulerRegistry) private readonly registry: SchedulerRegistry,
    @Inject(SweepService) private readonly sweeper: SweepService,
    @Inject(ConnectionsRepository) private readonly connections: ConnectionsRepository,
    @Inject(EventsRepository) private readonly events: EventsRepository,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.registry.addInterval(
      'refresh-sweep',
      setInterval(() => void this.sweep(), this.config.SWEEP_INTERVAL_MS),
    );
    this.registry.addInterval(
      'connections-gauge',
      setInterval(() => void this.gauge(), 15_000),
    );
    this.registry.addInterval('history-retention', setInterval(() => void this.prune(), HOUR_MS));
    void this.sweep();
    void this.gauge();
    void this.prune();
  }

  async sweep(): Promise<void> {
    try {
      const n = await this.sweeper.sweep();
      if (n > 0) this.logger.debug({ enqueued: n }, 'enqueued due refreshes');
    } catch (err) {
      this.logger.error({ err }, 'sweep failed');
    }
  }

  /** Keeps routine history (refreshed events, finished attempts) for HISTORY_RETENTION_DAYS. */
  async prune(): Promise<void> {
    try {
      const before = new Date(Date.now() - this.config.HISTORY_RETENTION_DAYS * 86_400_000);
      const n = await this.events.prune(before);
      if (n > 0) this.logger.log({ deleted: n }, 'pruned routine refresh history');
    } catch (err) {
      this.logger.warn({ err }, 'history retention failed');
    }
  }

  private async gauge(): Promise<void> {
    try {
      const counts = await this.connections.countByStatus(ALL_TENANTS);
      for (const status of CONNECTION_STATUSES) {
        for (const provider of PROVIDER_NAMES) {
          const n = counts
            .filter((c) => c.status === status && c.provider === provider)
            .reduce((a, c) => a + c.count, 0);
          this.metrics.connections.set({ status, provider }, n);
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'could not update the connections gauge');
    }
  }
}
