import { IsNull, type DataSource, type Repository } from 'typeorm';
import { ApiKeyEntity, type ApiKeyScope } from '../entities/api-key.entity';

export type ApiKeyWithHash = ApiKeyEntity & { keyHash: Buffer };

export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(dataSource: DataSource) {
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
    await this.repo.insert(row);
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

  list(): Promise<ApiKeyEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async revoke(id: string): Promise<boolean> {
    const res = await this.repo.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (res.affected ?? 0) > 0;
  }
}
