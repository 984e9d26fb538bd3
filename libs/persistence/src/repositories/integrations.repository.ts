import type { DataSource, Repository } from 'typeorm';
import { ConnectionEntity } from '../entities/connection.entity';
import { IntegrationEntity, type IntegrationStatus } from '../entities/integration.entity';

export type NewIntegration = Omit<IntegrationEntity, 'createdAt' | 'updatedAt' | 'status' | 'statusReason'>;
export type IntegrationWithSecret = IntegrationEntity & { clientSecretSealed: Buffer };

export class IntegrationsRepository {
  private readonly repo: Repository<IntegrationEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(IntegrationEntity);
  }

  async insert(row: NewIntegration): Promise<IntegrationEntity> {
    await this.repo.insert(row);
    return this.mustFindByKey(row.key);
  }

  findByKey(key: string): Promise<IntegrationEntity | null> {
    return this.repo.findOneBy({ key });
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

  list(): Promise<IntegrationEntity[]> {
    return this.repo.find({ order: { key: 'ASC' } });
  }

  async update(
    id: string,
    patch: Partial<NewIntegration> & { status?: IntegrationStatus; statusReason?: string | null },
  ): Promise<void> {
    await this.repo.update({ id }, patch);
  }

  async countConnections(id: string): Promise<number> {
    return this.dataSource.getRepository(ConnectionEntity).countBy({ integrationId: id });
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.repo.delete({ id });
    return (res.affected ?? 0) > 0;
  }

  private async mustFindByKey(key: string): Promise<IntegrationEntity> {
    const row = await this.findByKey(key);
    if (!row) throw new Error(`integration ${key} vanished after insert`);
    return row;
  }
}
