import type { Database, Row } from '../database/database';
import type { ConnectionLastError, ConnectionStatus } from '../entities/connection.entity';
import type { ConnectionListFilter } from './connections.repository';
import type { TenantScope } from './tenant-scope';

/** The statuses the dashboard calls broken; the partial indexes of the operator-dashboard migration use it. */
const BROKEN = `c.status IN ('refresh_failing', 'needs_reauth')`;

export interface BrokenConnection {
  id: string;
  tenantId: string;
  integrationKey: string;
  provider: string;
  status: ConnectionStatus;
  statusReason: string | null;
  failingSince: Date;
  refreshFailures: number;
  lastError: ConnectionLastError | null;
  /** `failing_since` at microsecond precision, for the keyset cursor. */
  cursorAt: string;
}

/** A connection whose refresh token dies soon (`reauth_due_at`, set by the worker's reauth-due watch). */
export interface ReauthDueConnection {
  id: string;
  tenantId: string;
  integrationKey: string;
  provider: string;
  status: ConnectionStatus;
  reauthDueAt: Date;
  /** `reauth_due_at` at microsecond precision, for the keyset cursor. */
  cursorAt: string;
}

export interface BrokenGroup {
  integrationKey: string;
  provider: string;
  status: ConnectionStatus;
  reason: string | null;
  count: number;
  oldestFailure: Date;
}

export interface OutcomeBucket {
  bucket: Date;
  outcome: string;
  count: number;
}

/**
 * WHERE clauses for a caller's scope and the dashboard's filters over `connections c`. Integration and
 * provider become `c.integration_id` conditions (a subquery on the small integrations table), so the
 * connection indexes that start with integration_id apply.
 */
export function connectionConditions(
  scope: TenantScope,
  filter: ConnectionListFilter,
  params: unknown[],
): string[] {
  const where: string[] = [];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (scope.tenantId !== null) add('c.tenant_id = ?', scope.tenantId);
  if (filter.tenantId !== undefined) add('c.tenant_id = ?', filter.tenantId);
  if (filter.status !== undefined) add('c.status = ?', filter.status);
  if (filter.integrationKey !== undefined)
    add('c.integration_id = (SELECT id FROM integrations WHERE key = ?)', filter.integrationKey);
  if (filter.provider !== undefined)
    add('c.integration_id IN (SELECT id FROM integrations WHERE provider = ?)', filter.provider);
  return where;
}

/** Read-only queries of the operator dashboard; each is bounded by an index and a limit, whatever the size. */
export class DashboardRepository {
  constructor(private readonly db: Database) {}

  /** Broken connections, most recent first failure first, keyset-paginated on (failing_since, id). */
  async broken(
    scope: TenantScope,
    filter: ConnectionListFilter & { reason?: string },
    after: { createdAt: string; id: string } | null,
    limit: number,
  ): Promise<BrokenConnection[]> {
    const params: unknown[] = [];
    const where = [BROKEN, ...connectionConditions(scope, filter, params)];
    if (filter.reason !== undefined) {
      params.push(filter.reason);
      where.push(`c.status_reason = $${params.length}`);
    }
    if (after) {
      params.push(after.createdAt, after.id);
      where.push(`(c.failing_since, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit);
    const rows = await this.db.query(
      `SELECT c.id, c.tenant_id, i.key AS integration_key, i.provider, c.status, c.status_reason,
         c.failing_since, c.refresh_failures, c.last_error,
         to_char(c.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM connections c JOIN integrations i ON i.id = c.integration_id
       WHERE ${where.join(' AND ')}
       ORDER BY c.failing_since DESC, c.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toBroken);
  }

  /**
   * Connections flagged `reauth_due_at` (their refresh token dies within the warning window), soonest death
   * first, keyset-paginated on (reauth_due_at, id); `before` keeps those dying before it. The partial indexes
   * of the reauth-due-list migration answer it for every tenant, a tenant and an integration.
   */
  async reauthDue(
    scope: TenantScope,
    filter: ConnectionListFilter & { before?: Date },
    after: { createdAt: string; id: string } | null,
    limit: number,
  ): Promise<ReauthDueConnection[]> {
    const params: unknown[] = [];
    const where = ['c.reauth_due_at IS NOT NULL', ...connectionConditions(scope, filter, params)];
    if (filter.before !== undefined) {
      params.push(filter.before);
      where.push(`c.reauth_due_at < $${params.length}`);
    }
    if (after) {
      params.push(after.createdAt, after.id);
      where.push(`(c.reauth_due_at, c.id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit);
    const rows = await this.db.query(
      `SELECT c.id, c.tenant_id, i.key AS integration_key, i.provider, c.status, c.reauth_due_at,
         to_char(c.reauth_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM connections c JOIN integrations i ON i.id = c.integration_id
       WHERE ${where.join(' AND ')}
       ORDER BY c.reauth_due_at, c.id LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      id: r.id as string,
      tenantId: r.tenant_id as string,
      integrationKey: r.integration_key as string,
      provider: r.provider as string,
      status: r.status as ConnectionStatus,
      reauthDueAt: r.reauth_due_at as Date,
      cursorAt: r.cursor_at as string,
    }));
  }

  /** How many connections are flagged `reauth_due_at` in the caller's scope and filters (an index-only count). */
  async reauthDueCount(scope: TenantScope, filter: ConnectionListFilter): Promise<number> {
    const params: unknown[] = [];
    const where = ['c.reauth_due_at IS NOT NULL', ...connectionConditions(scope, filter, params)];
    const [row] = await this.db.query(
      `SELECT count(*)::int AS n FROM connections c WHERE ${where.join(' AND ')}`,
      params,
    );
    return (row?.n as number | undefined) ?? 0;
  }

  /** Broken connections counted by integration, provider, status and reason, with the oldest failure. */
  async brokenGroups(scope: TenantScope, filter: ConnectionListFilter, limit = 200): Promise<BrokenGroup[]> {
    const params: unknown[] = [];
    const where = [BROKEN, ...connectionConditions(scope, filter, params)];
    params.push(limit);
    const rows = await this.db.query(
      `SELECT i.key AS integration_key, i.provider, g.status, g.reason, g.count, g.oldest
       FROM (SELECT c.integration_id, c.status, c.status_reason AS reason, count(*)::int AS count,
               min(c.failing_since) AS oldest
             FROM connections c WHERE ${where.join(' AND ')}
             GROUP BY 1, 2, 3) g
       JOIN integrations i ON i.id = g.integration_id
       ORDER BY g.count DESC, i.key, g.status, g.reason LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      integrationKey: r.integration_key as string,
      provider: r.provider as string,
      status: r.status as ConnectionStatus,
      reason: r.reason as string | null,
      count: r.count as number,
      oldestFailure: r.oldest as Date,
    }));
  }

  /**
   * Finished refresh attempts since `from`, by hour (aligned on `from`) and outcome. Reads the attempts of
   * the window through refresh_attempts_started_idx; with a tenant, integration or provider it joins their
   * connections by primary key.
   */
  async refreshOutcomes(
    scope: TenantScope,
    filter: ConnectionListFilter,
    from: Date,
  ): Promise<OutcomeBucket[]> {
    const params: unknown[] = [from];
    const conditions = connectionConditions(scope, { ...filter, status: undefined }, params);
    const join = conditions.length ? 'JOIN connections c ON c.id = a.connection_id' : '';
    const rows = await this.db.query(
      `SELECT date_bin('1 hour', a.started_at, $1::timestamptz) AS bucket, a.outcome, count(*)::int AS count
       FROM refresh_attempts a ${join}
       WHERE a.started_at >= $1 AND a.finished_at IS NOT NULL
         ${conditions.map((c) => `AND ${c}`).join(' ')}
       GROUP BY 1, 2 ORDER BY 1, 2`,
      params,
    );
    return rows.map((r) => ({
      bucket: r.bucket as Date,
      outcome: (r.outcome as string | null) ?? 'unknown',
      count: r.count as number,
    }));
  }

  /** Integrations whose client credentials the provider rejected (few; platform-wide). */
  async rejectedIntegrations(): Promise<
    { key: string; provider: string; statusReason: string | null; updatedAt: Date }[]
  > {
    const rows = await this.db.query(
      `SELECT key, provider, status_reason, updated_at FROM integrations
       WHERE status = 'credentials_rejected' ORDER BY key LIMIT 500`,
    );
    return rows.map((r) => ({
      key: r.key as string,
      provider: r.provider as string,
      statusReason: r.status_reason as string | null,
      updatedAt: r.updated_at as Date,
    }));
  }
}

function toBroken(r: Row): BrokenConnection {
  return {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    integrationKey: r.integration_key as string,
    provider: r.provider as string,
    status: r.status as ConnectionStatus,
    statusReason: r.status_reason as string | null,
    failingSince: r.failing_since as Date,
    refreshFailures: r.refresh_failures as number,
    lastError: r.last_error as ConnectionLastError | null,
    cursorAt: r.cursor_at as string,
  };
}
