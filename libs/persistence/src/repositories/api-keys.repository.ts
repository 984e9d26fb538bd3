import type { Database, Row } from '../database/database';
import type { ApiKeyEntity, ApiKeyScope } from '../entities/api-key.entity';

export type ApiKeyWithHash = ApiKeyEntity & { keyHash: Buffer };

const COLUMNS = 'id, name, key_prefix, scopes, tenant_id, created_at, revoked_at';

export class ApiKeysRepository {
  constructor(private readonly db: Database) {}

  async insert(row: {
    id: string;
    name: string;
    keyHash: Buffer;
    keyPrefix: string;
    scopes: ApiKeyScope[];
    tenantId: string | null;
  }): Promise<ApiKeyEntity> {
    const [created] = await this.db.query(
      `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, tenant_id) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING ${COLUMNS}`,
      [row.id, row.name, row.keyHash, row.keyPrefix, row.scopes, row.tenantId],
    );
    if (!created) throw new Error('api key vanished after insert');
    return toApiKey(created);
  }

  /** An active (not revoked) key by the SHA-256 of its value, with the hash for a constant-time check. */
  async findActiveByHash(keyHash: Buffer): Promise<ApiKeyWithHash | null> {
    const [r] = await this.db.query(
      `SELECT ${COLUMNS}, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [keyHash],
    );
    return r ? { ...toApiKey(r), keyHash: r.key_hash as Buffer } : null;
  }

  async existsByHash(keyHash: Buffer): Promise<boolean> {
    const [r] = await this.db.query(`SELECT EXISTS (SELECT 1 FROM api_keys WHERE key_hash = $1) AS found`, [
      keyHash,
    ]);
    return r?.found === true;
  }

  async list(): Promise<ApiKeyEntity[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`)).map(toApiKey);
  }

  async revoke(id: string): Promise<boolean> {
    return (
      (await this.db.execute(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [
        id,
      ])) > 0
    );
  }
}

/** The key's public record; the hash is read only by findActiveByHash. */
function toApiKey(r: Row): ApiKeyEntity {
  return {
    id: r.id as string,
    name: r.name as string,
    keyPrefix: r.key_prefix as string,
    scopes: r.scopes as ApiKeyScope[],
    tenantId: r.tenant_id as string | null,
    createdAt: r.created_at as Date,
    revokedAt: r.revoked_at as Date | null,
  } as ApiKeyEntity;
}
