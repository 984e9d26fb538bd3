import type { DataKeyRecord, DataKeyStore } from '@vault/crypto';
import type { Database, Row } from '../database/database';

const COLUMNS = 'id, kms_key_id, wrapped_key, created_at, retired_at';

/** PostgreSQL-backed store of wrapped data keys for the envelope cipher. */
export class DataKeysRepository implements DataKeyStore {
  constructor(private readonly db: Database) {}

  async findActive(): Promise<DataKeyRecord | null> {
    const [r] = await this.db.query(
      `SELECT ${COLUMNS} FROM data_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1`,
    );
    return r ? toRecord(r) : null;
  }

  async findById(id: string): Promise<DataKeyRecord | null> {
    const [r] = await this.db.query(`SELECT ${COLUMNS} FROM data_keys WHERE id = $1`, [id]);
    return r ? toRecord(r) : null;
  }

  async insert(record: { id: string; kmsKeyId: string; wrappedKey: Buffer }): Promise<DataKeyRecord> {
    const [r] = await this.db.query(
      `INSERT INTO data_keys (id, kms_key_id, wrapped_key) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
      [record.id, record.kmsKeyId, record.wrappedKey],
    );
    if (!r) throw new Error('data key vanished after insert');
    return toRecord(r);
  }

  async listAll(): Promise<DataKeyRecord[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM data_keys ORDER BY created_at`)).map(toRecord);
  }

  async updateWrapping(id: string, kmsKeyId: string, wrappedKey: Buffer): Promise<void> {
    await this.db.execute(`UPDATE data_keys SET kms_key_id = $2, wrapped_key = $3 WHERE id = $1`, [
      id,
      kmsKeyId,
      wrappedKey,
    ]);
  }
}

function toRecord(r: Row): DataKeyRecord {
  return {
    id: r.id as string,
    kmsKeyId: r.kms_key_id as string,
    wrappedKey: r.wrapped_key as Buffer,
    createdAt: r.created_at as Date,
    retiredAt: r.retired_at as Date | null,
  };
}
