import type { DataSource, EntityManager, Repository } from 'typeorm';
import { ConnectionEntity } from '../entities/connection.entity';
import { IntegrationEntity, type IntegrationStatus } from '../entities/integration.entity';

export type NewIntegration = Omit<IntegrationEntity, 'createdAt' | 'updatedAt' | 'status' | 'statusReason'>;
export type IntegrationWithSecret = IntegrationEntity & { clientSecretSealed: Buffer };
/** An integration as listed: `created_at` also at full (microsecond) precision, for keyset cursors. */
export type IntegrationListed = IntegrationEntity & { cursorAt: string };

export class IntegrationsRepository {
  private readonly repo: Repository<IntegrationEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(IntegrationEntity);
  }

  async insert(
    row: NewIntegration,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<IntegrationEntity> {
    await manager.getRepository(IntegrationEntity).insert(row);
    const created = await manager.getRepository(IntegrationEntity).findOneBy({ key: row.key });
    if (!created) throw new Error(`integration ${row.key} vanished after insert`);
    return created;
  }

  findByKey(key: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ key });
  }

  /** Reads and locks the row until the transaction ends, so a change and its recorded old values agree. */
  findByKeyForUpdate(key: string, manager: EntityManager): Promise<IntegrationEntity | null> {
    return manager
      .getRepository(IntegrationEntity)
      .findOne({ where: { key }, lock: { mode: 'pessimistic_write' } });
  }

  findById(id: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** The only read that returns the sealed client secret. */
  async findByIdWithSecret(id: string): Promise<IntegrationWithSecret | null> {
    return await this.repo
      .createQueryBuilder('i')
      .addSelect('i.clientSecretSealed')
      .where('i.id = :id', { id })
      .getOne();
  }

  /** Oldest first, keyset-paginated on (created_at, id). */
  async list(after: { createdAt: string; id: string } | null, limit: number): Promise<IntegrationListed[]> {
    const rows = await this.repo
      .createQueryBuilder('i')
      .addSelect(`to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, 'cursor_at')
      .where(after ? '(i.created_at, i.id) > (CAST(:at AS timestamptz), CAST(:id AS uuid))' : 'TRUE', {
        at: after?.createdAt,
        id: after?.id,
      })
      .orderBy('i.created_at', 'ASC')
      .addOrderBy('i.id', 'ASC')
      .limit(limit)
      .getRawAndEntities<{ cursor_at: string }>();
    return rows.entities.map((e, n) => Object.assign(e, { cursorAt: rows.raw[n]?.cursor_at ?? '' }));
  }

  async update(
    id: string,
    patch: Partial<NewIntegration> & { status?: IntegrationStatus; statusReason?: string | null },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.getRepository(IntegrationEntity).update({ id }, patch);
  }

  async countConnections(id: string): Promise<number> {
    return this.dataSource.getRepository(ConnectionEntity).countBy({ integrationId: id });
  }

  async delete(id: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const res = await manager.getRepository(IntegrationEntity).delete({ id });
    return (res.affected ?? 0) > 0;
  }
}
