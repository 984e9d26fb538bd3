import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrateDatabase } from '@vault/persistence';

/** PostgreSQL of the machine (or TEST_DATABASE_URL's server); each test file gets its own database. */
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'vault_test'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A unique Redis key prefix per test file, so runs never collide. */
export function testRedisPrefix(): string {
  return `vault-test-${randomBytes(5).toString('hex')}`;
}
