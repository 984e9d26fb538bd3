import type { DataSource } from 'typeorm';
import type { ConnectionLastError, ConnectionStatus } from '../entities/connection.entity';
import type { ConnectionEventType } from '../entities/connection-event.entity';

export type RefreshTrigger = 'scheduled' | 'on_demand' | 'forced';

/** A connection as the refresher reads it under its lock: secrets sealed, with its integration. */
export interface RefreshRow {
  id: string;
  tenantId: string;
  integrationId: string;
  integrationKey: string;
  provider: string;
  integrationStatus: 'ok' | 'credentials_rejected';
  status: ConnectionStatus;
  version: number;
  refreshTokenSealed: Buffer;
  accessTokenExpiresAt: Date | null;
  nextRefreshAt: Date | null;
  refreshFailures: number;
  scopes: string[];
  lastError: ConnectionLastError | null;
  /** Changes with every write to the row: tells a waiting reader whether the lock holder did something. */
  updatedAt: Date;
}

export interface OpenAttempt {
  id: string;
  startedAt: Date;
  refreshTokenFingerprint: string;
  connectionVersion: number;
}

export interface RefreshSuccess {
  id: string;
  version: number;
  accessTokenSealed: Buffer;
  accessTokenExpiresAt: Date;
  /** null: the provider did not rotate, keep the stored refresh token. */
  refreshTokenSealed: Buffer | null;
  tokenType: string;
  scopes: string[] | null;
  nextRefreshAt: Date;
  refreshTokenExpiresAt: Date | null;
  attemptId: string;
  tenantId: string;
  eventDetail: Record<string, unknown>;
}

export interface RefreshFailureWrite {
  id: string;
  tenantId: string;
  attemptId: string | null;
  outcome: string;
  /** The status to set, or null to keep it. */
  status: ConnectionStatus | null;
  statusReason: string | null;
  lastError: ConnectionLastError;
  /** null stops scheduling (needs_reauth). */
  nextRefreshAt: Date | null;
  incrementFailures: boolean;
  event: { type: ConnectionEventType; detail: Record<string, unknown> };
  /** Apply only if the connection still has this version (a concurrent grant replacement wins). */
  version: number;
}

type Row = Record<string, unknown>;

/** SQL of the refresh engine: reads under the lock, the journal, fenced writes, and the due-work claim. */
export class RefreshRepository {
  constructor(private readonly dataSource: DataSource) {}

  async load(id: string): Promise<RefreshRow | null> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT c.id, c.tenant_id, c.integration_id, i.key AS integration_key, i.provider, i.status AS integration_status,
              c.status, c.version, c.refresh_token_sealed, c.access_token_expires_at, c.next_refresh_at,
              c.refresh_failures, c.scopes, c.last_error, c.updated_at
       FROM connections c JOIN integrations i ON i.id = c.integration_id WHERE c.id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      id: r.id as string,
      tenantId: r.tenant_id as string,
      integrationId: r.integration_id as string,
      integrationKey: r.integration_key as string,
      provider: r.provider as string,
      integrationStatus: r.integration_status as RefreshRow['integrationStatus'],
      status: r.status as ConnectionStatus,
      version: r.version as number,
      refreshTokenSealed: r.refresh_token_sealed as Buffer,
      accessTokenExpiresAt: r.access_token_expires_at as Date | null,
      nextRefreshAt: r.next_refresh_at as Date | null,
      refreshFailures: r.refresh_failures as number,
      scopes: r.scopes as string[],
      lastError: r.last_error as ConnectionLastError | null,
      updatedAt: r.updated_at as Date,
    };
  }

  /** Journal step: recorded before the provider is called. */
  async startAttempt(a: {
    id: string;
    connectionId: string;
    trigger: RefreshTrigger;
    connectionVersion: number;
    refreshTokenFingerprint: string;
  }): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO refresh_attempts (id, connection_id, trigger, connection_version, refresh_token_fingerprint)
       VALUES ($1, $2, $3, $4, $5)`,
      [a.id, a.connectionId, a.trigger, a.connectionVersion, a.refreshTokenFingerprint],
    );
  }

  async finishAttempt(id: string, outcome: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE refresh_attempts SET finished_at = now(), outcome = $2 WHERE id = $1 AND finished_at IS NULL`,
      [id, outcome],
    );
  }

  /** Attempts of this connection that never finished (their process died after calling the provider). */
  async openAttempts(connectionId: string): Promise<OpenAttempt[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT id, started_at, refresh_token_fingerprint, connection_version FROM refresh_attempts
       WHERE connection_id = $1 AND finished_at IS NULL ORDER BY started_at`,
      [connectionId],
    );
    return rows.map((r) => ({
      id: r.id as string,
      startedAt: r.started_at as Date,
      refreshTokenFingerprint: r.refresh_token_fingerprint as string,
      connectionVersion: r.connection_version as number,
    }));
  }

  /** Fenced write of fresh tokens: applies only if the connection still has the version read under the lock. */
  async applySuccess(s: RefreshSuccess): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const rows: unknown = await tx.query(
        `UPDATE connections SET access_token_sealed = $3, access_token_expires_at = $4,
           refresh_token_sealed = coalesce($5, refresh_token_sealed), token_type = $6, scopes = coalesce($7, scopes),
           next_refresh_at = $8, refresh_token_expires_at = coalesce($9, refresh_token_expires_at),
           status = 'active', status_reason = NULL, refresh_failures = 0, last_error = NULL,
           last_refreshed_at = now(), refresh_claimed_until = NULL, version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 RETURNING id`,
        [
          s.id,
          s.version,
          s.accessTokenSealed,
          s.accessTokenExpiresAt,
          s.refreshTokenSealed,
          s.tokenType,
          s.scopes,
          s.nextRefreshAt,
          s.refreshTokenExpiresAt,
        ],
      );
      const applied = returnedRows(rows) > 0;
      await tx.query(`UPDATE refresh_attempts SET finished_at = now(), outcome = $2 WHERE id = $1`, [
        s.attemptId,
        applied ? 'success' : 'success_fenced_out',
      ]);
      await tx.query(
        `INSERT INTO connection_events (connection_id, tenant_id, type, detail) VALUES ($1, $2, $3, $4)`,
        [s.id, s.tenantId, applied ? 'refreshed' : 'refresh_race_lost', s.eventDetail],
      );
      return applied;
    });
  }

  /** Records a failed refresh: status, reason, schedule and event, fenced by version like a success. */
  async applyFailure(f: RefreshFailureWrite): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const rows: unknown = await tx.query(
        `UPDATE connections SET status = coalesce($3, status), status_reason = CASE WHEN $3::text IS NULL THEN status_reason ELSE $4 END,
           last_error = $5, next_refresh_at = $6,
           refresh_failures = refresh_failures + CASE WHEN $7 THEN 1 ELSE 0 END,
           refresh_claimed_until = NULL, updated_at = now()
         WHERE id = $1 AND version = $2 RETURNING id`,
        [f.id, f.version, f.status, f.statusReason, f.lastError, f.nextRefreshAt, f.incrementFailures],
      );
      const applied = returnedRows(rows) > 0;
      if (f.attemptId) {
        await tx.query(`UPDATE refresh_attempts SET finished_at = now(), outcome = $2 WHERE id = $1`, [
          f.attemptId,
          f.outcome,
        ]);
      }
      if (applied) {
        await tx.query(
          `INSERT INTO connection_events (connection_id, tenant_id, type, detail) VALUES ($1, $2, $3, $4)`,
          [f.id, f.tenantId, f.event.type, f.event.detail],
        );
      }
      return applied;
    });
  }

  /** Marks the integration's credentials as rejected; true when this call changed it (alert once). */
  async rejectIntegration(integrationId: string, reason: string): Promise<boolean> {
    const rows: unknown = await this.dataSource.query(
      `UPDATE integrations SET status = 'credentials_rejected', status_reason = $2, updated_at = now()
       WHERE id = $1 AND status <> 'credentials_rejected' RETURNING id`,
      [integrationId, reason],
    );
    return returnedRows(rows) > 0;
  }

  /**
   * Claims connections due before `horizon` that no other sweeper holds, in one statement with SKIP LOCKED,
   * and leases them until `leaseUntil`. A lost job (Redis flushed, worker killed) is claimed again once its
   * lease has passed: PostgreSQL stays the source of truth for what is due.
   */
  async claimDue(horizon: Date, leaseUntil: Date, limit: number): Promise<{ id: string; dueAt: Date }[]> {
    const rows: unknown = await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM connections
         WHERE next_refresh_at IS NOT NULL AND next_refresh_at <= $1 AND status IN ('active', 'refresh_failing')
           AND (refresh_claimed_until IS NULL OR refresh_claimed_until < now())
         ORDER BY next_refresh_at LIMIT $3
         FOR UPDATE SKIP LOCKED)
       UPDATE connections c SET refresh_claimed_until = $2 FROM due WHERE c.id = due.id
       RETURNING c.id, c.next_refresh_at`,
      [horizon, leaseUntil, limit],
    );
    const list = Array.isArray(rows) && Array.isArray(rows[0]) ? (rows[0] as Row[]) : (rows as Row[]);
    return list.map((r) => ({ id: r.id as string, dueAt: r.next_refresh_at as Date }));
  }

  /** Gives up a claim early (the job could not be enqueued). */
  async releaseClaim(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(
      `UPDATE connections SET refresh_claimed_until = NULL WHERE id = ANY($1::uuid[])`,
      [ids],
    );
  }
}

/** `UPDATE ... RETURNING` through TypeORM's postgres driver answers `[rows, affected]`. */
function returnedRows(result: unknown): number {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[1];
  }
  return Array.isArray(result) ? result.length : 0;
}
