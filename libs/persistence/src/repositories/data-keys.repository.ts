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

  /** Marks a key retired (no process seals under it any more); keeps the first retirement time. */
  async retire(id: string): Promise<DataKeyRecord | null> {
    const [r] = await this.db.query(
      `UPDATE data_keys SET retired_at = coalesce(retired_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return r ? toRecord(r) : null;
  }

  /**
   * Deletes a key. Throws ForeignKeyViolation while a value is still sealed under it (the key-ID columns'
   * foreign keys): a key is never deleted from under a secret. Returns false if it was already gone.
   */
  async delete(id: string): Promise<boolean> {
    return (await this.db.execute(`DELETE FROM data_keys WHERE id = $1`, [id])) > 0;
  }

  /** Up to `limit` keys not wrapped under `kmsKeyId` (what a re-wrap after a KMS key rotation still has to do). */
  async listWrappedOtherThan(kmsKeyId: string, limit: number): Promise<DataKeyRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM data_keys WHERE kms_key_id <> $1 ORDER BY created_at, id LIMIT $2`,
      [kmsKeyId, limit],
    );
    return rows.map(toRecord);
  }

  async countWrappedOtherThan(kmsKeyId: string): Promise<number> {
    const [r] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM data_keys WHERE kms_key_id <> $1`,
      [kmsKeyId],
    );
    return r?.n ?? 0;
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
