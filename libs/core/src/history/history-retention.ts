import type { AuditRepository, EventsRepository } from '@vault/persistence';
import type { VaultConfig } from '../config/vault-config';

const DAY_MS = 86_400_000;

/**
 * Keeps routine history for HISTORY_RETENTION_DAYS: older `refreshed` events and finished refresh attempts go;
 * every other event, and unfinished attempts (the recovery journal), stay whatever their age. The audit trail
 * is kept AUDIT_RETENTION_DAYS.
 */
export class HistoryRetention {
  constructor(
    private readonly events: EventsRepository,
    private readonly config: Pick<VaultConfig, 'HISTORY_RETENTION_DAYS' | 'AUDIT_RETENTION_DAYS'>,
    private readonly audit?: Pick<AuditRepository, 'prune'>,
  ) {}

  cutoff(now: Date = new Date()): Date {
    return new Date(now.getTime() - this.config.HISTORY_RETENTION_DAYS * DAY_MS);
  }

  auditCutoff(now: Date = new Date()): Date {
    return new Date(now.getTime() - this.config.AUDIT_RETENTION_DAYS * DAY_MS);
  }

  /** Deletes what is older than the cut-offs; returns how many rows went. */
  async prune(now: Date = new Date()): Promise<number> {
    const history = await this.events.prune(this.cutoff(now));
    return history + (this.audit ? await this.audit.prune(this.auditCutoff(now)) : 0);
  }
}
