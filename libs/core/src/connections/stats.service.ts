import type { ConnectionsRepository, EventsRepository, TenantScope } from '@vault/persistence';

export interface VaultStats {
  connections: { status: string; integration: string; provider: string; count: number }[];
  totals: Record<string, number>;
  failuresLastHour: Record<string, number>;
}

export class StatsService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly events: EventsRepository,
  ) {}

  async stats(scope: TenantScope): Promise<VaultStats> {
    const [counts, failures] = await Promise.all([
      this.connections.countByStatus(scope),
      this.events.recentFailures(scope.tenantId, 3600),
    ]);
    const totals: Record<string, number> = { active: 0, refresh_failing: 0, needs_reauth: 0, revoked: 0 };
    for (const c of counts) totals[c.status] = (totals[c.status] ?? 0) + c.count;
    const failuresLastHour: Record<string, number> = {};
    for (const f of failures) {
      const key = f.failureClass || f.type;
      failuresLastHour[key] = (failuresLastHour[key] ?? 0) + f.count;
    }
    return {
      connections: counts.map((c) => ({
        status: c.status,
        integration: c.integrationKey,
        provider: c.provider,
        count: c.count,
      })),
      totals,
      failuresLastHour,
    };
  }
}
