import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Room in each page of `connections` for a new version of its rows, so that the writes that change no indexed
 * column (the sweep's claim lease and its release) are HOT updates: no new entry in any of the table's indexes
 * for each claimed row. Applies to pages written from now on (VACUUM FULL or a dump/restore repacks old ones).
 */
export class ConnectionsFillfactor1732440000000 implements MigrationInterface {
  name = 'ConnectionsFillfactor1732440000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections SET (fillfactor = 80)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections RESET (fillfactor)`);
  }
}
