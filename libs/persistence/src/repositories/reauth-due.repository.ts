import type { Database } from '../database/database';

export interface FlaggedReauth {
  connectionId: string;
  tenantId: string;
  integration: string;
  provider: string;
  refreshTokenExpiresAt: Date;
}

/** The refresh-token lifetime watch: which connections' refresh tokens die within the warning window. */
export class ReauthDueRepository {
  constructor(private readonly db: Database) {}

  /**
   * Flags, once, the connections whose refresh token dies within `days` (not revoked, not flagged yet) with a
   * `reauth_due` event in the same statement; answers them. Concurrent workers cannot flag a row twice.
   */
  async flagDue(days: number): Promise<FlaggedReauth[]> {
    const rows = await this.db.query(
      `WITH f AS (
         UPDATE connections c SET reauth_due_at = c.refresh_token_expires_at
         FROM integrations i
         WHERE i.id = c.integration_id AND c.refresh_token_expires_at IS NOT NULL
           AND c.refresh_token_expires_at < now() + make_interval(days => $1)
           AND c.reauth_due_at IS NULL AND c.status <> 'revoked'
         RETURNING c.id, c.tenant_id, i.key, i.provider, c.refresh_token_expires_at),
       e AS (
         INSERT INTO connection_events (connection_id, tenant_id, type, detail)
         SELECT id, tenant_id, 'reauth_due',
                jsonb_build_object('refresh_token_expires_at',
                  to_char(refresh_token_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
         FROM f)
       SELECT id, tenant_id, key, provider, refresh_token_expires_at FROM f`,
      [days],
    );
    return rows.map((r) => ({
      connectionId: r.id as string,
      tenantId: r.tenant_id as string,
      integration: r.key as string,
      provider: r.provider as string,
      refreshTokenExpiresAt: r.refresh_token_expires_at as Date,
    }));
  }

  /** Clears the flag where the refresh token's death moved out of the window (a refresh, a re-consent). */
  clearNoLongerDue(days: number): Promise<number> {
    return this.db.execute(
      `UPDATE connections SET reauth_due_at = NULL
       WHERE reauth_due_at IS NOT NULL AND (status = 'revoked' OR refresh_token_expires_at IS NULL
         OR refresh_token_expires_at >= now() + make_interval(days => $1))`,
      [days],
    );
  }

  /** Flagged connections by provider. */
  async countByProvider(): Promise<{ provider: string; count: number }[]> {
    const rows = await this.db.query(
      `SELECT i.provider, count(*)::int AS count FROM connections c JOIN integrations i ON i.id = c.integration_id
       WHERE c.reauth_due_at IS NOT NULL GROUP BY i.provider`,
    );
    return rows.map((r) => ({ provider: r.provider as string, count: r.count as number }));
  }
}
