import { ALL_TENANTS, CONNECTION_STATUSES, type ConnectionsRepository } from '@vault/persistence';
import { PROVIDER_NAMES } from '@vault/providers';
import type { MetricsService } from './metrics.service';

/**
 * Keeps `vault_connections{status,provider}`: one count per status × provider, zeros included, so a series
 * drops to 0 instead of vanishing when its last connection changes status.
 */
export class ConnectionsGauge {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly metrics: MetricsService,
  ) {}

  async update(): Promise<void> {
    // The worker's gauge round is also when the count deltas are folded, keeping every count read cheap.
    await this.connections.compactCounts();
    const counts = await this.connections.countByStatus(ALL_TENANTS);
    for (const status of CONNECTION_STATUSES) {
      for (const provider of PROVIDER_NAMES) {
        const n = counts
          .filter((c) => c.status === status && c.provider === provider)
          .reduce((a, c) => a + c.count, 0);
        this.metrics.connections.set({ status, provider }, n);
      }
    }
  }
}
