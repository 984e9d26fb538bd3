import type { DataKeyRecord, DataKeyStore } from '@vault/crypto';
import { IsNull, type DataSource, type Repository } from 'typeorm';
import { DataKeyEntity } from '../entities/data-key.entity';

/** PostgreSQL-backed store of wrapped data keys for the envelope cipher. */
export class DataKeysRepository implements DataKeyStore {
  private readonly repo: Repository<DataKeyEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(DataKeyEntity);
  }

  async findActive(): Promise<DataKeyRecord | null> {
    const row = await this.repo.findOne({ where: { retiredAt: IsNull() }, order: { createdAt: 'DESC' } });
    return row ? toRecord(row) : null;
  }

  async findById(id: string): Promise<DataKeyRecord | null> {
    const row = await this.repo.findOneBy({ id });
    return row ? toRecord(row) : null;
  }

  async insert(record: { id: string; kmsKeyId: string; wrappedKey: Buffer }): Promise<DataKeyRecord> {
    await this.repo.insert(record);
    const row = await this.repo.findOneBy({ id: record.id });
    if (!row) throw new Error('data key vanished after insert');
    return toRecord(row);
  }

  async listAll(): Promise<DataKeyRecord[]> {
    return (await this.repo.find({ order: { createdAt: 'ASC' } })).map(toRecord);
  }

  async updateWrapping(id: string, kmsKeyId: string, wrappedKey: Buffer): Promise<void> {
    await this.repo.update({ id }, { kmsKeyId, wrappedKey });
  }
}

function toRecord(row: DataKeyEntity): DataKeyRecord {
  return {
    id: row.id,
    kmsKeyId: row.kmsKeyId,
    wrappedKey: row.wrappedKey,
    createdAt: row.createdAt,
    retiredAt: row.retiredAt,
  };
}
