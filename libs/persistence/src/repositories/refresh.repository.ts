import type { Database, Row } from '../database/database';
import type { ConnectionLastError, ConnectionStatus } from '../entities/connection.entity';
import type { ConnectionEventType } from '../entities/connection-event.entity';
import type { IntegrationStatus } from '../entities/integration.entity';
import type { ConnectionChangeSink } from './connection-changes';

/** A connection as the refresher reads it under its lock: secrets sealed, with its integration. */
export interface RefreshRow {
  id: string;
  tenantId: string;
  status: ConnectionStatus;
  version: number;
  refreshTokenSealed: Buffer;
  accessTokenExpiresAt: Date | null;
  nextRefreshAt: Date | null;
  refreshFailures: number;
  scopes: string[];
  lastError: ConnectionLastError | null;
  /** The last successful refresh (null: never refreshed since the grant was imported). */
  lastRefreshedAt: Date | null;
  /** Changes with every write to the row: tells a waiting reader whether the lock holder did something. */
  updatedAt: Date;
  /** An attempt of this connection was journalled and never finished (its process died). */
  hasOpenAttempts: boolean;
  integration: {
    id: string;
    key: string;
    provider: string;
    status: IntegrationStatus;
    clientId: string;
    clientSecretSealed: Buffer;
    /** The secret a rotation replaced, kept until `previousSecretValidUntil` (null: no overlap). */
    previousClientSecretSealed: Buffer | null;
    previousSecretValidUntil: Date | null;
    clientAuth: string;
    tokenUrl: string | null;
    authorizeUrl: string | null;
    revokeUrl: string | null;
    refreshMarginSeconds: number | null;
    requestTimeoutMs: number | null;
  };
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

function toRefreshRow(r: Row): RefreshRow {
  return {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    status: r.status as ConnectionStatus,
    version: r.version as number,
    refreshTokenSealed: r.refresh_token_sealed as Buffer,
    accessTokenExpiresAt: r.access_token_expires_at as Date | null,
    nextRefreshAt: r.next_refresh_at as Date | null,
    refreshFailures: r.refresh_failures as number,
    scopes: r.scopes as string[],
    lastError: r.last_error as ConnectionLastError | null,
    lastRefreshedAt: r.last_refreshed_at as Date | null,
    updatedAt: r.updated_at as Date,
    hasOpenAttempts: r.has_open_attempts as boolean,
    integration: {
      id: r.i_id as string,
      key: r.i_key as string,
      provider: r.i_provider as string,
      status: r.i_status as IntegrationStatus,
      clientId: r.i_client_id as string,
      clientSecretSealed: r.i_client_secret_sealed as Buffer,
      previousClientSecretSealed: r.i_previous_client_secret_sealed as Buffer | null,
      previousSecretValidUntil: r.i_previous_secret_valid_until as Date | null,
      clientAuth: r.i_client_auth as string,
      tokenUrl: r.i_token_url as string | null,
      authorizeUrl: r.i_authorize_url as string | null,
      revokeUrl: r.i_revoke_url as string | null,
      refreshMarginSeconds: r.i_refresh_margin_seconds as number | null,
      requestTimeoutMs: r.i_request_timeout_ms as number | null,
    },
  };
}

const LOAD_SQL = `
  SELECT c.id, c.tenant_id, c.status, c.version, c.refresh_token_sealed, c.access_token_expires_at,
         c.next_refresh_at, c.refresh_failures, c.scopes, c.last_error, c.last_refreshed_at, c.updated_at,
         EXISTS (SELECT 1 FROM refresh_attempts a WHERE a.connection_id = c.id AND a.finished_at IS NULL)
           AS has_open_attempts,
         i.id AS i_id, i.key AS i_key, i.provider AS i_provider, i.status AS i_status, i.client_id AS i_client_id,
         i.client_secret_sealed AS i_client_secret_sealed, i.client_auth AS i_client_auth, i.token_url AS i_token_url,
         i.previous_client_secret_sealed AS i_previous_client_secret_sealed,
         i.previous_secret_valid_until AS i_previous_secret_valid_until,
         i.authorize_url AS i_authorize_url, i.revoke_url AS i_revoke_url,
         i.refresh_margin_seconds AS i_refresh_margin_seconds, i.request_timeout_ms AS i_request_timeout_ms
  FROM connections c JOIN integrations i ON i.id = c.integration_id WHERE c.id = ANY($1::uuid[])`;

/**
 * One statement (one round trip, atomic) for any number of refreshed connections: the fenced writes, the
 * journal's end and the events. Scopes travel as JSON (arrays of different lengths do not unnest).
 */
const SUCCESS_SQL = `
  WITH u AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::bytea[], $4::timestamptz[], $5::bytea[], $6::text[],
                         $7::jsonb[], $8::timestamptz[], $9::timestamptz[], $10::uuid[], $11::text[], $12::jsonb[])
      AS u(id, version, at_sealed, at_expires, rt_sealed, token_type, scopes, next_at, rt_expires, attempt_id,
           tenant_id, detail)),
  c AS (
    UPDATE connections c SET access_token_sealed = u.at_sealed, access_token_expires_at = u.at_expires,
      refresh_token_sealed = coalesce(u.rt_sealed, c.refresh_token_sealed), token_type = u.token_type,
      scopes = CASE WHEN u.scopes IS NULL THEN c.scopes
                    ELSE ARRAY(SELECT jsonb_array_elements_text(u.scopes)) END,
      next_refresh_at = u.next_at, refresh_token_expires_at = coalesce(u.rt_expires, c.refresh_token_expires_at),
      status = 'active', status_reason = NULL, refresh_failures = 0, last_error = NULL,
      last_refreshed_at = now(), refresh_claimed_until = NULL, version = c.version + 1, updated_at = now()
    FROM u WHERE c.id = u.id AND c.version = u.version RETURNING c.id),
  a AS (
    UPDATE refresh_attempts a SET finished_at = now(),
      outcome = CASE WHEN u.id IN (SELECT id FROM c) THEN 'success' ELSE 'success_fenced_out' END
    FROM u WHERE a.id = u.attempt_id),
  e AS (
    INSERT INTO connection_events (connection_id, tenant_id, type, detail)
    SELECT u.id, u.tenant_id, CASE WHEN u.id IN (SELECT id FROM c) THEN 'refreshed' ELSE 'refresh_race_lost' END,
           u.detail
    -- A connection deleted meanwhile gets no event (its foreign key would fail the whole batch).
    FROM u WHERE u.id IN (SELECT id FROM c) OR EXISTS (SELECT 1 FROM connections x WHERE x.id = u.id))
  SELECT id FROM c`;

const FAILURE_SQL = `
  WITH c AS (
    UPDATE connections SET status = coalesce($3, status),
      status_reason = CASE WHEN $3::text IS NULL THEN status_reason ELSE $4 END,
      last_error = $5, next_refresh_at = $6,
      refresh_failures = refresh_failures + CASE WHEN $7 THEN 1 ELSE 0 END,
      refresh_claimed_until = NULL, updated_at = now()
    WHERE id = $1 AND version = $2 RETURNING id),
  a AS (UPDATE refresh_attempts SET finished_at = now(), outcome = $8 WHERE id = $9),
  e AS (
    INSERT INTO connection_events (connection_id, tenant_id, type, detail)
    SELECT $1, $10, $11, $12 WHERE EXISTS (SELECT 1 FROM c))
  SELECT EXISTS (SELECT 1 FROM c) AS applied`;

/**
 * The refresh engine's reads and writes of connections under its lock: the read of the rows (with their
 * integration) and the fenced writes of the outcome. The journal is RefreshAttemptsRepository, the due-work
 * claim RefreshScheduleRepository. A refresh costs three statements: load, journal insert, and one write.
 */
export class RefreshRepository {
  constructor(
    private readonly db: Database,
    private readonly changes: ConnectionChangeSink,
  ) {}

  async load(id: string): Promise<RefreshRow | null> {
    return (await this.loadMany([id]))[0] ?? null;
  }

  /** Several connections in one round trip (a batch of scheduled refreshes). */
  async loadMany(ids: string[]): Promise<RefreshRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.prepared('vault_refresh_load', LOAD_SQL, [ids]);
    return rows.map(toRefreshRow);
  }

  /**
   * Fenced writes of fresh tokens: each applies only if its connection still has the version read under the
   * lock. Returns the IDs that were applied.
   */
  async applySuccesses(writes: RefreshSuccess[]): Promise<Set<string>> {
    if (writes.length === 0) return new Set();
    const rows = await this.db.prepared('vault_refresh_success', SUCCESS_SQL, [
      writes.map((s) => s.id),
      writes.map((s) => s.version),
      writes.map((s) => s.accessTokenSealed),
      writes.map((s) => s.accessTokenExpiresAt),
      writes.map((s) => s.refreshTokenSealed),
      writes.map((s) => s.tokenType),
      writes.map((s) => (s.scopes === null ? null : JSON.stringify(s.scopes))),
      writes.map((s) => s.nextRefreshAt),
      writes.map((s) => s.refreshTokenExpiresAt),
      writes.map((s) => s.attemptId),
      writes.map((s) => s.tenantId),
      writes.map((s) => JSON.stringify(s.eventDetail)),
    ]);
    const applied = new Set(rows.map((r) => r.id as string));
    if (applied.size > 0) this.changes.connectionsChanged([...applied]);
    return applied;
  }

  /** Records a failed refresh: status, reason, schedule and event, fenced by version like a success. */
  async applyFailure(f: RefreshFailureWrite): Promise<boolean> {
    const [r] = await this.db.prepared('vault_refresh_failure', FAILURE_SQL, [
      f.id,
      f.version,
      f.status,
      f.statusReason,
      f.lastError,
      f.nextRefreshAt,
      f.incrementFailures,
      f.outcome,
      f.attemptId,
      f.tenantId,
      f.event.type,
      f.event.detail,
    ]);
    if (r?.applied === true) this.changes.connectionsChanged([f.id]);
    return r?.applied === true;
  }
}
