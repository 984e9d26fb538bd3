import { Inject, Logger, type OnApplicationBootstrap, type Provider } from '@nestjs/common';
import { AuditRepository } from '@vault/persistence';
import type { VaultConfig } from '../config/vault-config';
import { MetricsService } from '../metrics/metrics.service';
import { AuditTrail } from './audit-trail';
import { AuditService } from './audit.service';

/**
 * Starts the audit trail's flush timer. The last flush at shutdown is the API module's (`AuditFinalFlush`):
 * global modules such as CoreModule and PersistenceModule shut down in an order Nest does not promise, and the
 * last flush needs the pool open.
 */
class AuditTimer implements OnApplicationBootstrap {
  constructor(@Inject(AuditTrail) private readonly trail: AuditTrail) {}
  onApplicationBootstrap(): void {
    this.trail.start();
  }
}

/** The audit trail wired for Nest: the buffered trail, its timer and the service that reads it. */
export function auditProviders(config: VaultConfig): Provider[] {
  return [
    {
      provide: AuditTrail,
      useFactory: (repo: AuditRepository, metrics: MetricsService) => {
        const logger = new Logger('Audit');
        return new AuditTrail(
          repo,
          {
            dropped: (n) => metrics.auditRowsDropped.inc(n),
            flushFailed: (err, pending) =>
              logger.warn({ err, pending }, 'audit flush failed; rows kept for the next one'),
          },
          {
            maxEntries: config.AUDIT_BUFFER_MAX_ENTRIES,
            flushIntervalMs: config.AUDIT_FLUSH_INTERVAL_MS,
          },
        );
      },
      inject: [AuditRepository, MetricsService],
    },
    AuditTimer,
    {
      provide: AuditService,
      useFactory: (repo: AuditRepository, trail: AuditTrail) => new AuditService(repo, trail),
      inject: [AuditRepository, AuditTrail],
    },
  ];
}
