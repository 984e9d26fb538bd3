import type { Database, Row } from '../database/database';
import type { ApiKeyEntity, ApiKeyScope } from '../entities/api-key.entity';

export type ApiKeyWithHash = ApiKeyEntity & { keyHash: Buffer };
/** A key as listed: `created_at` also at full (microsecond) precision, for keyset cursors. */
export type ApiKeyListed = ApiKeyEntity & { cursorAt: string };

const COLUMNS = 'id, name, key_prefix, scopes, tenant_id, created_at, revoked_at, legacy_format';

export class ApiKeysRepository {
  constructor(private readonly db: Database) {}

  /** Keys this version makes carry the vk_ checksum: `legacy_format` false (the column defaults to true). */
  async insert(row: {
    id: string;
    name: string;
    keyHash: Buffer;
    keyPrefix: string;
    scopes: ApiKeyScope[];
    tenantId: string | null;
  }): Promise<ApiKeyEntity> {
    const [created] = await this.db.query(
      `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, tenant_id, legacy_format)
       VALUES ($1, $2, $3, $4, $5, $6, false)
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

  /** Oldest first, keyset-paginated on (created_at, id). */
  async list(after: { createdAt: string; id: string } | null, limit: number): Promise<ApiKeyListed[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS},
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM api_keys
       WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)
       ORDER BY created_at, id LIMIT $3`,
      [after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map((r) => ({ ...toApiKey(r), cursorAt: r.cursor_at as string }));
  }

  /** Hashes of the active keys stored by earlier versions (few, and no new ones are made). */
  async listLegacyHashes(): Promise<{ id: string; keyHash: Buffer }[]> {
    const rows = await this.db.query(
      `SELECT id, key_hash FROM api_keys WHERE legacy_format AND revoked_at IS NULL`,
    );
    return rows.map((r) => ({ id: r.id as string, keyHash: r.key_hash as Buffer }));
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
    legacyFormat: r.legacy_format as boolean,
  } as ApiKeyEntity;
}
