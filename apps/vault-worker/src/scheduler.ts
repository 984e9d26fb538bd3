import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  ConnectSessionsService,
  ConnectionsGauge,
  HistoryRetention,
  KeyRotationService,
  ReauthDueWatch,
  SweepService,
  VAULT_CONFIG,
  type VaultConfig,
} from '@vault/core';

const GAUGE_INTERVAL_MS = 15_000;
const RETENTION_INTERVAL_MS = 3600_000;
const REAUTH_DUE_INTERVAL_MS = 60_000;
const KEY_RETIREMENT_INTERVAL_MS = 300_000;

/**
 * The worker's timers (@nestjs/schedule), each run once at start and then on its interval: the due-work sweep,
 * the connections gauge, the refresh-token lifetime watch, history retention (with expired connect sessions)
 * and the resumption of data key retirements. The work itself is in core's services; a failed round is
 * logged and the next one runs as planned.
 */
@Injectable()
export class WorkerScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('Scheduler');

  constructor(
    @Inject(SchedulerRegistry) private readonly registry: SchedulerRegistry,
    @Inject(SweepService) private readonly sweeper: SweepService,
    @Inject(ConnectionsGauge) private readonly gauge: ConnectionsGauge,
    @Inject(HistoryRetention) private readonly retention: HistoryRetention,
    @Inject(ConnectSessionsService) private readonly sessions: ConnectSessionsService,
    @Inject(ReauthDueWatch) private readonly reauthDue: ReauthDueWatch,
    @Inject(KeyRotationService) private readonly keyRotation: KeyRotationService,
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.every('refresh-sweep', 'sweep', this.config.SWEEP_INTERVAL_MS, async () => {
      const n = await this.sweeper.sweep();
      if (n > 0) this.logger.debug({ enqueued: n }, 'enqueued due refreshes');
    });
    this.every('connections-gauge', 'connections gauge', GAUGE_INTERVAL_MS, () => this.gauge.update());
    this.every('reauth-due', 'refresh-token lifetime watch', REAUTH_DUE_INTERVAL_MS, async () => {
      const n = await this.reauthDue.check();
      if (n > 0) this.logger.log({ flagged: n }, 'connections due for re-consent');
    });
    this.every('history-retention', 'history retention', RETENTION_INTERVAL_MS, async () => {
      const n = await this.retention.prune();
      if (n > 0) this.logger.log({ deleted: n }, 'pruned routine refresh history');
      const s = await this.sessions.pruneExpired();
      if (s > 0) this.logger.log({ deleted: s }, 'pruned expired connect sessions');
    });
    // A retired data key still present is a retirement to finish, whatever became of its job.
    this.every('key-retirement', 'key retirement resume', KEY_RETIREMENT_INTERVAL_MS, async () => {
      await this.keyRotation.resumePending();
    });
  }

  /** Logs `<what> failed` (with the error and the interval) when a round throws; alerts and tests read it. */
  private every(name: string, what: string, ms: number, task: () => Promise<void>): void {
    const run = () =>
      task().catch((err: unknown) => this.logger.error({ err, every_ms: ms }, `${what} failed`));
    this.registry.addInterval(
      name,
      setInterval(() => void run(), ms),
    );
    void run();
  }
}
