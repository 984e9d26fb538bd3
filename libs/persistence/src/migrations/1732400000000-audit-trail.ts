import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: who read which connection's token (one row per API key and connection per flush, with a
 * count and the first and last read), and every management action (one row each).
 */
export class AuditTrail1732400000000 implements MigrationInterface {
  name = 'AuditTrail1732400000000';

  public async up(q: QueryRunner): Promise<void> {
    // No foreign keys: the record of a read or a deletion outlives the key and the connection it names.
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        action text NOT NULL,
        api_key_id uuid,
        connection_id uuid,
        target text,
        count integer NOT NULL DEFAULT 1 CHECK (count > 0),
        first_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX audit_log_connection_idx ON audit_log (connection_id, id) WHERE connection_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX audit_log_key_idx ON audit_log (api_key_id, id) WHERE api_key_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX audit_log_created_idx ON audit_log (created_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
  }
}
