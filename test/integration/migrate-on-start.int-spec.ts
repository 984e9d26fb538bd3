import { randomBytes } from 'node:crypto';
import { MIGRATIONS } from '@vault/persistence';
import { Client } from 'pg';
import { PG_ADMIN_URL, testRedisPrefix } from '../utils/database';
import { startKmsEmulator, type KmsEmulator } from '../utils/kms-emulator';
import { runVaultCli, startVaultProcess, type VaultProcess } from '../utils/processes';
import { query } from '../utils/refresh-fixtures';

/**
 * Boot and the schema: outside production a process creates and migrates its database (`npm start` on a fresh
 * machine); in production (MIGRATE_ON_START off) it only checks, refuses to start while a migration is pending,
 * and starts once `migrate` has run.
 */
describe('MIGRATE_ON_START', () => {
  const databases: string[] = [];
  const processes: VaultProcess[] = [];
  let kms: KmsEmulator;

  function newDatabaseUrl(): string {
    const name = `vault_test_boot_${randomBytes(4).toString('hex')}`;
    databases.push(name);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async function exists(url: string): Promise<boolean> {
    const name = new URL(url).pathname.slice(1);
    const rows = await query(PG_ADMIN_URL, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rows.length === 1;
  }

  beforeAll(async () => {
    kms = await startKmsEmulator();
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await kms?.close();
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('by default outside production, the worker creates the missing database and migrates it before it is ready', async () => {
    const url = newDatabaseUrl();
    const worker = await startVaultProcess('worker', {
      DATABASE_URL: url,
      REDIS_PREFIX: testRedisPrefix(),
      LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
    });
    processes.push(worker);
    const applied = await query<{ name: string }>(url, 'SELECT name FROM schema_migrations');
    expect(applied.map((r) => r.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
  });

  it('with MIGRATE_ON_START=false the API refuses to start on a missing database, and creates nothing', async () => {
    const url = newDatabaseUrl();
    const start = startVaultProcess('api', {
      DATABASE_URL: url,
      REDIS_PREFIX: testRedisPrefix(),
      LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
      MIGRATE_ON_START: 'false',
    });
    await expect(start).rejects.toThrow(
      /vault-api failed to start: the database named in DATABASE_URL does not exist and MIGRATE_ON_START is off: run `npm run migrate`/,
    );
    expect(await exists(url)).toBe(false);
  });

  it('in production a process with pending migrations refuses to start, naming them; after `migrate` it starts', async () => {
    const url = newDatabaseUrl();
    // An empty database: every migration is pending.
    await query(PG_ADMIN_URL, `CREATE DATABASE "${new URL(url).pathname.slice(1)}"`);
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: url,
      REDIS_PREFIX: testRedisPrefix(),
      KMS_DRIVER: 'aws',
      KMS_KEY_ID: kms.alias,
      KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: kms.region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };

    for (const kind of ['api', 'worker'] as const) {
      await expect(startVaultProcess(kind, env)).rejects.toThrow(
        new RegExp(
          `vault-${kind} failed to start: the database has ${MIGRATIONS.length} pending migration\\(s\\) \\(${MIGRATIONS.map((m) => m.name).join(', ')}\\) and MIGRATE_ON_START is off: run \`npm run migrate\``,
        ),
      );
    }
    const tables = await query(url, `SELECT 1 FROM pg_tables WHERE schemaname = 'public'`);
    expect(tables).toEqual([]);

    expect((await runVaultCli(['migrate'], env)).code).toBe(0);
    const api = await startVaultProcess('api', env);
    processes.push(api);
    expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);
  }, 300_000); // four process starts in a row: a bound for a loaded machine, not a timing check
});
