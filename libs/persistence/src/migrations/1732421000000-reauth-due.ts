import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh-token lifetimes: `reauth_due_at` holds the refresh token's known death while it is within the
 * warning window (null otherwise), set once per episode by the worker; the index finds the rows to check.
 */
export class ReauthDue1732421000000 implements MigrationInterface {
  name = 'ReauthDue1732421000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ADD COLUMN reauth_due_at timestamptz`);
    await q.query(
      `CREATE INDEX connections_rt_expiry_idx ON connections (refresh_token_expires_at)
         WHERE refresh_token_expires_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX connections_reauth_due_idx ON connections (reauth_due_at) WHERE reauth_due_at IS NOT NULL`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX connections_reauth_due_idx`);
    await q.query(`DROP INDEX connections_rt_expiry_idx`);
    await q.query(`ALTER TABLE connections DROP COLUMN reauth_due_at`);
  }
}
