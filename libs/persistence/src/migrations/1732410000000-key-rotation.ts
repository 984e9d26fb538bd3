import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The data key a sealed value is under, as a column PostgreSQL keeps itself (bytes 1..17 of the sealed format
 * are the data key ID; anything shorter than a sealed value, or of another format version, gives NULL).
 */
function keyIdOf(column: string): string {
  return `CASE WHEN length(${column}) < 45 THEN NULL
               WHEN get_byte(${column}, 0) = 1 THEN encode(substring(${column} FROM 2 FOR 16), 'hex')::uuid
          END`;
}

/** Every sealed column: table, column, and the name of its key-ID column. */
const SEALED = [
  ['connections', 'refresh_token_sealed', 'refresh_token_key_id'],
  ['connections', 'access_token_sealed', 'access_token_key_id'],
  ['integrations', 'client_secret_sealed', 'client_secret_key_id'],
  ['integrations', 'previous_client_secret_sealed', 'previous_client_secret_key_id'],
] as const;

/**
 * Online key rotation. Each sealed column gets a generated column naming its data key, indexed (the retirement
 * job finds "rows still under key X" there) and a foreign key to data_keys: PostgreSQL refuses to delete a data
 * key a value is still sealed under, and refuses a value sealed under a key already deleted, so no retirement
 * race can leave an unreadable secret behind. The foreign keys are NOT VALID: existing rows are not checked
 * (a row under a missing key is unreadable already), every new write and every delete is.
 * Integrations also get the previous client secret, kept during a rotation's overlap.
 */
export class KeyRotation1732410000000 implements MigrationInterface {
  name = 'KeyRotation1732410000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE integrations ADD COLUMN previous_client_secret_sealed bytea,
                   ADD COLUMN previous_secret_valid_until timestamptz`);
    for (const [table, column, keyColumn] of SEALED) {
      await q.query(
        `ALTER TABLE ${table} ADD COLUMN ${keyColumn} uuid GENERATED ALWAYS AS (${keyIdOf(column)}) STORED`,
      );
      await q.query(`CREATE INDEX ${table}_${keyColumn}_idx ON ${table} (${keyColumn}, id)`);
      await q.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ${table}_${keyColumn}_fk FOREIGN KEY (${keyColumn})
         REFERENCES data_keys (id) NOT VALID`,
      );
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const [table, , keyColumn] of [...SEALED].reverse()) {
      await q.query(`ALTER TABLE ${table} DROP COLUMN ${keyColumn}`);
    }
    await q.query(`ALTER TABLE integrations DROP COLUMN previous_secret_valid_until,
                   DROP COLUMN previous_client_secret_sealed`);
  }
}
