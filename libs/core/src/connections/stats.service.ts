import type {
  BrokenConnection,
  BrokenGroup,
  ConnectionListFilter,
  ConnectionsRepository,
  DashboardRepository,
  EventsRepository,
  ReauthDueConnection,
  TenantScope,
} from '@vault/persistence';
import { decodeCursor, keysetCursorOf, pageOf } from './cursor';

export interface VaultStats {
  connections: { status: string; integration: string; provider: string; count: number }[];
  totals: Record<string, number>;
  failuresLastHour: Record<string, number>;
  broken: BrokenGroup[];
  /** Connections whose refresh token dies within the warning window (`reauth_due_at` set). */
  reauthDue: number;
  rejectedIntegrations: { key: string; provider: string; statusReason: string | null; updatedAt: Date }[];
}

export interface OutcomeSeries {
  from: Date;
  to: Date;
  bucketSeconds: number;
  outcomes: string[];
  buckets: { at: Date; counts: Record<string, number> }[];
}

const HOUR_MS = 3600_000;

/** What dashboards read: counts, broken connections and refresh outcomes, each bounded by an index. */
export class StatsService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly events: EventsRepository,
    private readonly dashboard: DashboardRepository,
  ) {}

  async stats(scope: TenantScope, filter: ConnectionListFilter = {}): Promise<VaultStats> {
    const [counts, failures, broken, reauthDue, rejected] = await Promise.all([
      this.connections.countByStatus(scope, filter),
      this.events.recentFailures(scope.tenantId, 3600),
      this.dashboard.brokenGroups(scope, filter),
      this.dashboard.reauthDueCount(scope, { ...filter, status: undefined }),
      this.dashboard.rejectedIntegrations(),
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
      broken,
      reauthDue,
      rejectedIntegrations: rejected.filter(
        (i) =>
          (filter.integrationKey === undefined || i.key === filter.integrationKey) &&
          (filter.provider === undefined || i.provider === filter.provider),
      ),
    };
  }

  /** Broken connections (needs_reauth, refresh_failing), most recent first failure first, paginated. */
  async broken(
    scope: TenantScope,
    filter: ConnectionListFilter & { reason?: string },
    cursor: string | undefined,
    limit: number,
  ): Promise<{ data: BrokenConnection[]; nextCursor: string | null }> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    const rows = await this.dashboard.broken(scope, filter, after, limit + 1);
    return pageOf(rows, limit, keysetCursorOf);
  }

  /** Connections whose refresh token dies soon (flagged `reauth_due_at`), soonest first, paginated. */
  async reauthDue(
    scope: TenantScope,
    filter: ConnectionListFilter & { before?: Date },
    cursor: string | undefined,
    limit: number,
  ): Promise<{ data: ReauthDueConnection[]; nextCursor: string | null }> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    const rows = await this.dashboard.reauthDue(scope, { ...filter, status: undefined }, after, limit + 1);
    return pageOf(rows, limit, keysetCursorOf);
  }

  /** Finished refresh attempts per hour and outcome over the last `hours` hours (the current hour last). */
  async refreshOutcomes(
    scope: TenantScope,
    filter: ConnectionListFilter,
    hours: number,
    now = new Date(),
  ): Promise<OutcomeSeries> {
    const currentHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
    const from = new Date(currentHour - (hours - 1) * HOUR_MS);
    const rows = await this.dashboard.refreshOutcomes(scope, filter, from);
    const outcomes = [...new Set(rows.map((r) => r.outcome))].sort();
    const buckets = Array.from({ length: hours }, (_, i) => ({
      at: new Date(from.getTime() + i * HOUR_MS),
      counts: Object.fromEntries(outcomes.map((o) => [o, 0])),
    }));
    for (const r of rows) {
      const b = buckets[Math.round((r.bucket.getTime() - from.getTime()) / HOUR_MS)];
      if (b) b.counts[r.outcome] = (b.counts[r.outcome] ?? 0) + r.count;
    }
    return { from, to: now, bucketSeconds: 3600, outcomes, buckets };
  }
}
