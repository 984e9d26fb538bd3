import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The refresh engine: a journal of attempts (so a crash between the provider's answer and our write is
 * visible and recoverable), and a claim lease on connections so any number of sweepers share the due work.
 */
export class RefreshEngine1732290000000 implements MigrationInterface {
  name = 'RefreshEngine1732290000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE refresh_attempts (
        id uuid PRIMARY KEY,
        connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        trigger text NOT NULL CHECK (trigger IN ('scheduled', 'on_demand', 'forced')),
        connection_version integer NOT NULL,
        refresh_token_fingerprint text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        outcome text
      )`);
    await q.query(
      `CREATE INDEX refresh_attempts_open_idx ON refresh_attempts (connection_id, started_at) WHERE finished_at IS NULL`,
    );
    await q.query(`CREATE INDEX refresh_attempts_started_idx ON refresh_attempts (started_at)`);
    await q.query(`ALTER TABLE connections ADD COLUMN refresh_claimed_until timestamptz`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections DROP COLUMN refresh_claimed_until`);
    await q.query(`DROP TABLE refresh_attempts`);
  }
}
