import type { Database, Queryable, Row } from '../database/database';
import type { IntegrationEntity, IntegrationStatus } from '../entities/integration.entity';

export type NewIntegration = Omit<
  IntegrationEntity,
  'createdAt' | 'updatedAt' | 'status' | 'statusReason' | 'clientSecretKeyId' | 'previousClientSecretKeyId'
>;
export type IntegrationWithSecret = IntegrationEntity & { clientSecretSealed: Buffer };
/** An integration as listed: `created_at` also at full (microsecond) precision, for keyset cursors. */
export type IntegrationListed = IntegrationEntity & { cursorAt: string };
export type IntegrationPatch = Partial<Omit<NewIntegration, 'id' | 'key' | 'provider'>> & {
  status?: IntegrationStatus;
  statusReason?: string | null;
};

const COLUMNS = `id, key, provider, client_id, token_url, authorize_url, revoke_url, scopes, client_auth,
  refresh_margin_seconds, request_timeout_ms, allowed_return_urls, authorize_params, status, status_reason,
  previous_secret_valid_until, created_at, updated_at`;

/** The columns a patch may set, by property. */
const PATCHABLE: Record<keyof IntegrationPatch, string> = {
  clientId: 'client_id',
  clientSecretSealed: 'client_secret_sealed',
  previousClientSecretSealed: 'previous_client_secret_sealed',
  previousSecretValidUntil: 'previous_secret_valid_until',
  tokenUrl: 'token_url',
  authorizeUrl: 'authorize_url',
  revokeUrl: 'revoke_url',
  scopes: 'scopes',
  clientAuth: 'client_auth',
  refreshMarginSeconds: 'refresh_margin_seconds',
  requestTimeoutMs: 'request_timeout_ms',
  allowedReturnUrls: 'allowed_return_urls',
  authorizeParams: 'authorize_params',
  status: 'status',
  statusReason: 'status_reason',
};

export class IntegrationsRepository {
  constructor(private readonly db: Database) {}

  /** Inserts an integration; `tx` puts it in the caller's transaction. */
  async insert(row: NewIntegration, tx: Queryable = this.db): Promise<IntegrationEntity> {
    const [created] = await tx.query(
      `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, token_url, authorize_url,
         revoke_url, scopes, client_auth, refresh_margin_seconds, request_timeout_ms, allowed_return_urls,
         authorize_params)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ${COLUMNS}`,
      [
        row.id,
        row.key,
        row.provider,
        row.clientId,
        row.clientSecretSealed,
        row.tokenUrl,
        row.authorizeUrl,
        row.revokeUrl,
        row.scopes,
        row.clientAuth,
        row.refreshMarginSeconds,
        row.requestTimeoutMs,
        row.allowedReturnUrls,
        row.authorizeParams,
      ],
    );
    if (!created) throw new Error(`integration ${row.key} vanished after insert`);
    return toIntegration(created);
  }

  async findByKey(key: string): Promise<IntegrationEntity | null> {
    const [r] = await this.db.query(`SELECT ${COLUMNS} FROM integrations WHERE key = $1`, [key]);
    return r ? toIntegration(r) : null;
  }

  /** Reads and locks the row until `tx` ends, so a change and its recorded old values agree. */
  async findByKeyForUpdate(key: string, tx: Queryable): Promise<IntegrationEntity | null> {
    const [r] = await tx.query(`SELECT ${COLUMNS} FROM integrations WHERE key = $1 FOR UPDATE`, [key]);
    return r ? toIntegration(r) : null;
  }

  async findById(id: string): Promise<IntegrationEntity | null> {
    const [r] = await this.db.query(`SELECT ${COLUMNS} FROM integrations WHERE id = $1`, [id]);
    return r ? toIntegration(r) : null;
  }

  /** The only read that returns the sealed client secret. */
  async findByIdWithSecret(id: string): Promise<IntegrationWithSecret | null> {
    const [r] = await this.db.query(
      `SELECT ${COLUMNS}, client_secret_sealed FROM integrations WHERE id = $1`,
      [id],
    );
    return r ? { ...toIntegration(r), clientSecretSealed: r.client_secret_sealed as Buffer } : null;
  }

  /** Oldest first, keyset-paginated on (created_at, id). */
  async list(after: { createdAt: string; id: string } | null, limit: number): Promise<IntegrationListed[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS},
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM integrations
       WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)
       ORDER BY created_at, id LIMIT $3`,
      [after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map((r) => ({ ...toIntegration(r), cursorAt: r.cursor_at as string }));
  }

  async update(id: string, patch: IntegrationPatch, tx: Queryable = this.db): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [prop, column] of Object.entries(PATCHABLE) as [keyof IntegrationPatch, string][]) {
      if (patch[prop] === undefined) continue;
      values.push(patch[prop]);
      sets.push(`${column} = $${values.length}`);
    }
    if (sets.length === 0) return;
    await tx.execute(`UPDATE integrations SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, values);
  }

  /**
   * Marks the integration's credentials as rejected by the provider; true only for the call that changed it
   * (so the alert goes out once).
   */
  async markCredentialsRejected(id: string, reason: string): Promise<boolean> {
    const rows = await this.db.prepared(
      'vault_integration_reject',
      `UPDATE integrations SET status = 'credentials_rejected', status_reason = $2, updated_at = now()
       WHERE id = $1 AND status <> 'credentials_rejected' RETURNING id`,
      [id, reason],
    );
    return rows.length > 0;
  }

  async countConnections(id: string): Promise<number> {
    const [r] = await this.db.query(`SELECT count(*)::int AS n FROM connections WHERE integration_id = $1`, [
      id,
    ]);
    return (r?.n as number | undefined) ?? 0;
  }

  async delete(id: string, tx: Queryable = this.db): Promise<boolean> {
    return (await tx.execute(`DELETE FROM integrations WHERE id = $1`, [id])) > 0;
  }
}

function toIntegration(r: Row): IntegrationEntity {
  return {
    id: r.id as string,
    key: r.key as string,
    provider: r.provider as string,
    clientId: r.client_id as string,
    tokenUrl: r.token_url as string | null,
    authorizeUrl: r.authorize_url as string | null,
    revokeUrl: r.revoke_url as string | null,
    scopes: r.scopes as string[],
    clientAuth: r.client_auth as string,
    refreshMarginSeconds: r.refresh_margin_seconds as number | null,
    requestTimeoutMs: r.request_timeout_ms as number | null,
    allowedReturnUrls: r.allowed_return_urls as string[],
    authorizeParams: r.authorize_params as Record<string, string>,
    status: r.status as IntegrationStatus,
    statusReason: r.status_reason as string | null,
    previousSecretValidUntil: r.previous_secret_valid_until as Date | null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  } as IntegrationEntity;
}
