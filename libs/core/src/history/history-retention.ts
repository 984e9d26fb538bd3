import type { EventsRepository } from '@vault/persistence';
import type { VaultConfig } from '../config/vault-config';

const DAY_MS = 86_400_000;

/**
 * Keeps routine history for HISTORY_RETENTION_DAYS: older `refreshed` events and finished refresh attempts go;
 * every other event, and unfinished attempts (the recovery journal), stay whatever their age.
 */
export class HistoryRetention {
  constructor(
    private readonly events: EventsRepository,
    private readonly config: Pick<VaultConfig, 'HISTORY_RETENTION_DAYS'>,
  ) {}

  cutoff(now: Date = new Date()): Date {
    return new Date(now.getTime() - this.config.HISTORY_RETENTION_DAYS * DAY_MS);
  }

  /** Deletes what is older than the cut-off; returns how many rows went. */
  prune(now: Date = new Date()): Promise<number> {
    return this.events.prune(this.cutoff(now));
  }
}
