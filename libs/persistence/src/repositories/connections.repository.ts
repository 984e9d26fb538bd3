import type { Database, Queryable, Row } from '../database/database';
import type { ConnectionLastError, ConnectionStatus } from '../entities/connection.entity';
import type { ConnectionChangeSink } from './connection-changes';
import { connectionConditions } from './dashboard.repository';
import type { TenantScope } from './tenant-scope';

/** Connection metadata joined with its integration's key and provider; never a secret. */
export interface ConnectionView {
  id: string;
  integrationId: string;
  integrationKey: string;
  provider: string;
  tenantId: string;
  externalId: string | null;
  endUserId: string | null;
  status: ConnectionStatus;
  statusReason: string | null;
  accessTokenExpiresAt: Date | null;
  tokenType: string;
  scopes: string[];
  metadata: Record<string, unknown>;
  version: number;
  nextRefreshAt: Date | null;
  refreshFailures: number;
  lastRefreshedAt: Date | null;
  lastError: ConnectionLastError | null;
  refreshTokenExpiresAt: Date | null;
  reauthDueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** `created_at` at full (microsecond) precision, for keyset cursors. */
  cursorAt: string;
}

/** What the token read path needs, in one primary-key read. */
export interface TokenRow {
  id: string;
  tenantId: string;
  status: ConnectionStatus;
  statusReason: string | null;
  accessTokenSealed: Buffer | null;
  accessTokenExpiresAt: Date | null;
  tokenType: string;
  scopes: string[];
}

export interface ConnectionListFilter {
  status?: ConnectionStatus;
  integrationKey?: string;
  provider?: string;
  tenantId?: string;
}

export interface NewConnection {
  id: string;
  integrationId: string;
  tenantId: string;
  externalId: string | null;
  endUserId: string | null;
  status: ConnectionStatus;
  refreshTokenSealed: Buffer;
  accessTokenSealed: Buffer | null;
  accessTokenExpiresAt: Date | null;
  tokenType: string;
  scopes: string[];
  metadata: Record<string, unknown>;
  nextRefreshAt: Date | null;
  refreshTokenExpiresAt: Date | null;
}

export interface GrantReplacement {
  refreshTokenSealed: Buffer;
  accessTokenSealed: Buffer | null;
  accessTokenExpiresAt: Date | null;
  tokenType: string;
  scopes: string[];
  nextRefreshAt: Date | null;
  refreshTokenExpiresAt: Date | null;
}

const VIEW_COLUMNS = `
  c.id, c.integration_id, i.key AS integration_key, i.provider, c.tenant_id, c.external_id, c.end_user_id,
  c.status, c.status_reason, c.access_token_expires_at, c.token_type, c.scopes, c.metadata, c.version,
  c.next_refresh_at, c.refresh_failures, c.last_refreshed_at, c.last_error, c.refresh_token_expires_at,
  c.reauth_due_at, c.created_at, c.updated_at,
  to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;

/**
 * The columns of a `TokenRow`: the token cache holds them, so a write to any of them (or a delete) is announced
 * to the `ConnectionChangeSink` (see connection-changes.ts; `connection-writes.spec.ts` checks every statement).
 */
export const TOKEN_ROW_COLUMNS = [
  'id',
  'tenant_id',
  'status',
  'status_reason',
  'access_token_sealed',
  'access_token_expires_at',
  'token_type',
  'scopes',
] as const;

const TOKEN_ROW_SQL = `SELECT ${TOKEN_ROW_COLUMNS.join(', ')} FROM connections WHERE id = $1`;

export class ConnectionsRepository {
  constructor(
    private readonly db: Database,
    private readonly changes: ConnectionChangeSink,
  ) {}

  /** Inserts a connection; `tx` puts it in the caller's transaction. */
  async insert(row: NewConnection, tx: Queryable = this.db): Promise<void> {
    await tx.execute(
      `INSERT INTO connections (id, integration_id, tenant_id, external_id, end_user_id, status,
         refresh_token_sealed, access_token_sealed, access_token_expires_at, token_type, scopes, metadata,
         next_refresh_at, refresh_token_expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        row.id,
        row.integrationId,
        row.tenantId,
        row.externalId,
        row.endUserId,
        row.status,
        row.refreshTokenSealed,
        row.accessTokenSealed,
        row.accessTokenExpiresAt,
        row.tokenType,
        row.scopes,
        row.metadata,
        row.nextRefreshAt,
        row.refreshTokenExpiresAt,
      ],
    );
  }

  async findView(scope: TenantScope, id: string): Promise<ConnectionView | null> {
    const rows = await this.db.query(
      `SELECT ${VIEW_COLUMNS} FROM connections c JOIN integrations i ON i.id = c.integration_id
       WHERE c.id = $1 AND ($2::text IS NULL OR c.tenant_id = $2)`,
      [id, scope.tenantId],
    );
    return rows[0] ? toView(rows[0]) : null;
  }

  /**
   * The hot path: one primary-key read, no join, as a named prepared statement on the pool (one round trip,
   * no re-parsing). Tenant checks are the caller's (it has the row).
   */
  async findTokenRow(id: string): Promise<TokenRow | null> {
    const [r] = await this.db.prepared('vault_token_row', TOKEN_ROW_SQL, [id]);
    if (!r) return null;
    return {
      id: r.id as string,
      tenantId: r.tenant_id as string,
      status: r.status as ConnectionStatus,
      statusReason: r.status_reason as string | null,
      accessTokenSealed: r.access_token_sealed as Buffer | null,
      accessTokenExpiresAt: r.access_token_expires_at as Date | null,
      tokenType: r.token_type as string,
      scopes: r.scopes as string[],
    };
  }

  async list(
    scope: TenantScope,
    filter: ConnectionListFilter,
    after: { createdAt: string; id: string } | null,
    limit: number,
  ): Promise<ConnectionView[]> {
    const params: unknown[] = [];
    const where = connectionConditions(scope, filter, params);
    if (after) {
      params.push(after.createdAt, after.id);
      where.push(`(c.created_at, c.id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit);
    const rows = await this.db.query(
      `SELECT ${VIEW_COLUMNS} FROM connections c JOIN integrations i ON i.id = c.integration_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY c.created_at, c.id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toView);
  }

  /** Replaces the grant after re-consent: status back to active, failures cleared, version bumped. */
  async replaceGrant(
    scope: TenantScope,
    id: string,
    grant: GrantReplacement,
    tx: Queryable = this.db,
  ): Promise<boolean> {
    const changed = await tx.execute(
      `UPDATE connections SET refresh_token_sealed = $3, access_token_sealed = $4, access_token_expires_at = $5,
         token_type = $6, scopes = $7, next_refresh_at = $8, refresh_token_expires_at = $9,
         status = 'active', status_reason = NULL, refresh_failures = 0, last_error = NULL, reauth_due_at = NULL,
         version = version + 1, updated_at = now()
       WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)`,
      [
        id,
        scope.tenantId,
        grant.refreshTokenSealed,
        grant.accessTokenSealed,
        grant.accessTokenExpiresAt,
        grant.tokenType,
        grant.scopes,
        grant.nextRefreshAt,
        grant.refreshTokenExpiresAt,
      ],
    );
    if (changed > 0) tx.afterCommit(() => this.changes.connectionsChanged([id]));
    return changed > 0;
  }

  /** Sealed refresh token of a connection (for revocation), null once it is revoked; with what revoking needs. */
  async findRefreshTokenSealed(
    scope: TenantScope,
    id: string,
  ): Promise<{
    sealed: Buffer | null;
    integrationId: string;
    tenantId: string;
    status: ConnectionStatus;
  } | null> {
    const rows = await this.db.query(
      `SELECT refresh_token_sealed, integration_id, tenant_id, status FROM connections
       WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)`,
      [id, scope.tenantId],
    );
    const r = rows[0];
    return r
      ? {
          sealed: r.refresh_token_sealed as Buffer | null,
          integrationId: r.integration_id as string,
          tenantId: r.tenant_id as string,
          status: r.status as ConnectionStatus,
        }
      : null;
  }

  /**
   * Revokes in place: every secret goes, the row and its history stay. Not fenced by version: whatever grant
   * the row holds now (a refresh may have rotated it meanwhile) is wiped; the version bump fences out any
   * refresh still in flight, so it cannot write a token back.
   */
  async wipeSecrets(scope: TenantScope, id: string, tx: Queryable = this.db): Promise<boolean> {
    const changed = await tx.execute(
      `UPDATE connections SET refresh_token_sealed = NULL, access_token_sealed = NULL,
         access_token_expires_at = NULL, next_refresh_at = NULL, refresh_claimed_until = NULL, reauth_due_at = NULL,
         status = 'revoked', status_reason = 'revoked', version = version + 1, updated_at = now()
       WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)`,
      [id, scope.tenantId],
    );
    if (changed > 0) tx.afterCommit(() => this.changes.connectionsChanged([id]));
    return changed > 0;
  }

  async delete(scope: TenantScope, id: string): Promise<boolean> {
    const deleted = await this.db.execute(
      `DELETE FROM connections WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)`,
      [id, scope.tenantId],
    );
    if (deleted > 0) this.changes.connectionsChanged([id]);
    return deleted > 0;
  }

  /**
   * Counts by status × integration (and provider), for dashboards and the connections gauge: sums of the
   * deltas the triggers keep in connection_counts, never count(*) over the connections.
   */
  async countByStatus(
    scope: TenantScope,
    filter: ConnectionListFilter = {},
  ): Promise<{ status: ConnectionStatus; integrationKey: string; provider: string; count: number }[]> {
    // connection_counts has the tenant, integration and status columns the conditions name (as `c`).
    const params: unknown[] = [];
    const where = connectionConditions(scope, filter, params);
    const rows = await this.db.query(
      `SELECT c.status, i.key AS integration_key, i.provider, sum(c.n)::int AS count
       FROM connection_counts c JOIN integrations i ON i.id = c.integration_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       GROUP BY c.status, i.key, i.provider HAVING sum(c.n) > 0 ORDER BY i.key, c.status`,
      params,
    );
    return rows.map((r) => ({
      status: r.status as ConnectionStatus,
      integrationKey: r.integration_key as string,
      provider: r.provider as string,
      count: r.count as number,
    }));
  }

  /**
   * Folds the count deltas of each tenant × integration × status that has more than one into one row (and
   * drops groups back at zero). Deltas written meanwhile stay for the next round: nothing is counted twice.
   */
  async compactCounts(): Promise<void> {
    await this.db.execute(
      `WITH groups AS (
         SELECT tenant_id, integration_id, status FROM connection_counts
         GROUP BY 1, 2, 3 HAVING count(*) > 1 OR sum(n) = 0),
       gone AS (
         DELETE FROM connection_counts k USING groups g
         WHERE k.tenant_id = g.tenant_id AND k.integration_id = g.integration_id AND k.status = g.status
         RETURNING k.tenant_id, k.integration_id, k.status, k.n)
       INSERT INTO connection_counts (tenant_id, integration_id, status, n)
       SELECT tenant_id, integration_id, status, sum(n) FROM gone GROUP BY 1, 2, 3 HAVING sum(n) <> 0`,
    );
  }
}

function toView(r: Row): ConnectionView {
  return {
    id: r.id as string,
    integrationId: r.integration_id as string,
    integrationKey: r.integration_key as string,
    provider: r.provider as string,
    tenantId: r.tenant_id as string,
    externalId: r.external_id as string | null,
    endUserId: r.end_user_id as string | null,
    status: r.status as ConnectionStatus,
    statusReason: r.status_reason as string | null,
    accessTokenExpiresAt: r.access_token_expires_at as Date | null,
    tokenType: r.token_type as string,
    scopes: r.scopes as string[],
    metadata: r.metadata as Record<string, unknown>,
    version: r.version as number,
    nextRefreshAt: r.next_refresh_at as Date | null,
    refreshFailures: r.refresh_failures as number,
    lastRefreshedAt: r.last_refreshed_at as Date | null,
    lastError: r.last_error as ConnectionLastError | null,
    refreshTokenExpiresAt: r.refresh_token_expires_at as Date | null,
    reauthDueAt: r.reauth_due_at as Date | null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    cursorAt: r.cursor_at as string,
  };
}
