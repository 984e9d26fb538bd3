import { IsNull, type DataSource, type Repository } from 'typeorm';
import { ApiKeyEntity, type ApiKeyScope } from '../entities/api-key.entity';

export type ApiKeyWithHash = ApiKeyEntity & { keyHash: Buffer };
/** A key as listed: `created_at` also at full (microsecond) precision, for keyset cursors. */
export type ApiKeyListed = ApiKeyEntity & { cursorAt: string };

export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  async insert(row: {
    id: string;
    name: string;
    keyHash: Buffer;
    keyPrefix: string;
    scopes: ApiKeyScope[];
    tenantId: string | null;
  }): Promise<ApiKeyEntity> {
    await this.repo.insert({ ...row, legacyFormat: false });
    const created = await this.repo.findOneBy({ id: row.id });
    if (!created) throw new Error('api key vanished after insert');
    return created;
  }

  /** An active (not revoked) key by the SHA-256 of its value, with the hash for a constant-time check. */
  async findActiveByHash(keyHash: Buffer): Promise<ApiKeyWithHash | null> {
    return await this.repo
      .createQueryBuilder('k')
      .addSelect('k.keyHash')
      .where('k.key_hash = :keyHash AND k.revoked_at IS NULL', { keyHash })
      .getOne();
  }

  async existsByHash(keyHash: Buffer): Promise<boolean> {
    return (
      (await this.repo.createQueryBuilder('k').where('k.key_hash = :keyHash', { keyHash }).getCount()) > 0
    );
  }

  /** Oldest first, keyset-paginated on (created_at, id). */
  async list(after: { createdAt: string; id: string } | null, limit: number): Promise<ApiKeyListed[]> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT id, name, key_prefix, scopes, tenant_id, created_at, revoked_at, legacy_format,
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM api_keys
       WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)
       ORDER BY created_at, id LIMIT $3`,
      [after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map((r) => ({
      id: r.id as string,
      name: r.name as string,
      keyPrefix: r.key_prefix as string,
      scopes: r.scopes as ApiKeyScope[],
      tenantId: r.tenant_id as string | null,
      createdAt: r.created_at as Date,
      revokedAt: r.revoked_at as Date | null,
      legacyFormat: r.legacy_format as boolean,
      cursorAt: r.cursor_at as string,
    })) as ApiKeyListed[];
  }

  /** Hashes of the active keys stored by earlier versions (few, and no new ones are made). */
  async listLegacyHashes(): Promise<{ id: string; keyHash: Buffer }[]> {
    const rows: { id: string; key_hash: Buffer }[] = await this.dataSource.query(
      `SELECT id, key_hash FROM api_keys WHERE legacy_format AND revoked_at IS NULL`,
    );
    return rows.map((r) => ({ id: r.id, keyHash: r.key_hash }));
  }

  async revoke(id: string): Promise<boolean> {
    const res = await this.repo.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (res.affected ?? 0) > 0;
  }
}
