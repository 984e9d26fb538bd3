import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Revocation without deletion: a revoked connection keeps its row and history but no secret, so its refresh
 * token column may be empty, and only for a revoked connection.
 */
export class ConnectionRevocation1732401000000 implements MigrationInterface {
  name = 'ConnectionRevocation1732401000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ALTER COLUMN refresh_token_sealed DROP NOT NULL`);
    await q.query(
      `ALTER TABLE connections ADD CONSTRAINT connections_secret_unless_revoked
         CHECK (refresh_token_sealed IS NOT NULL OR status = 'revoked')`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections DROP CONSTRAINT connections_secret_unless_revoked`);
    // A revoked row has nothing to put back: an empty ciphertext opens to nothing and never refreshes.
    await q.query(
      `UPDATE connections SET refresh_token_sealed = '\\x'::bytea WHERE refresh_token_sealed IS NULL`,
    );
    await q.query(`ALTER TABLE connections ALTER COLUMN refresh_token_sealed SET NOT NULL`);
  }
}
