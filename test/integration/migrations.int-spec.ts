import { randomBytes } from 'node:crypto';
import { MIGRATIONS, migrateDatabase } from '@vault/persistence';
import { Client } from 'pg';
import { PG_ADMIN_URL } from '../utils/database';

describe('database creation and migrations', () => {
  const name = `vault_test_race_${randomBytes(4).toString('hex')}`;
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;

  afterAll(async () => {
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('lets several processes starting at once create the database and migrate it exactly once', async () => {
    const runs = await Promise.all(Array.from({ length: 4 }, () => migrateDatabase(url.toString())));
    expect(runs.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    const c = new Client({ connectionString: url.toString() });
    await c.connect();
    try {
      const applied = await c.query('SELECT name FROM schema_migrations ORDER BY id');
      expect(applied.rows.map((r: { name: string }) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await c.end();
    }
    expect(await migrateDatabase(url.toString())).toEqual([]);
  });
});
