import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ApiKeyEntity } from './entities/api-key.entity';
import { ConnectionEventEntity } from './entities/connection-event.entity';
import { ConnectionEntity } from './entities/connection.entity';
import { DataKeyEntity } from './entities/data-key.entity';
import { IntegrationEntity } from './entities/integration.entity';
import { IntegrationEventEntity } from './entities/integration-event.entity';
import { RefreshAttemptEntity } from './entities/refresh-attempt.entity';
import { AuditLogEntity } from './entities/audit-log.entity';
import { ConnectionCountEntity } from './entities/connection-count.entity';
import { InitialSchema1732280000000 } from './migrations/1732280000000-initial-schema';
import { RefreshEngine1732290000000 } from './migrations/1732290000000-refresh-engine';
import { AccessControl1732330000000 } from './migrations/1732330000000-access-control';
import { AuditTrail1732400000000 } from './migrations/1732400000000-audit-trail';
import { ConnectionRevocation1732401000000 } from './migrations/1732401000000-connection-revocation';
import { ConnectSessions1732411000000 } from './migrations/1732411000000-connect-sessions';
import { ReauthDue1732421000000 } from './migrations/1732421000000-reauth-due';
import { ConnectSessionEntity } from './entities/connect-session.entity';
import { KeyRotation1732410000000 } from './migrations/1732410000000-key-rotation';
import { ConnectionCounts1732420000000 } from './migrations/1732420000000-connection-counts';
import { OperatorDashboard1732430000000 } from './migrations/1732430000000-operator-dashboard';
import { ConnectionsFillfactor1732440000000 } from './migrations/1732440000000-connections-fillfactor';
import { ReauthDueList1796024237417 } from './migrations/1796024237417-reauth-due-list';

/** Entities and migrations are listed as classes so the same options work under tsc, swc and jest. */
export const ENTITIES = [
  IntegrationEntity,
  ConnectionEntity,
  DataKeyEntity,
  ApiKeyEntity,
  ConnectionEventEntity,
  RefreshAttemptEntity,
  IntegrationEventEntity,
  AuditLogEntity,
  ConnectSessionEntity,
  ConnectionCountEntity,
];
export const MIGRATIONS = [
  InitialSchema1732280000000,
  RefreshEngine1732290000000,
  AccessControl1732330000000,
  AuditTrail1732400000000,
  ConnectionRevocation1732401000000,
  KeyRotation1732410000000,
  ConnectSessions1732411000000,
  ConnectionCounts1732420000000,
  ReauthDue1732421000000,
  OperatorDashboard1732430000000,
  ConnectionsFillfactor1732440000000,
  ReauthDueList1796024237417,
];

/** Arbitrary constant shared by every process of the vault: the key of the migration advisory lock. */
const MIGRATION_LOCK_KEY = 727_001;

/**
 * TypeORM runs the migrations (and describes the schema with the entities); it is not used at runtime, where
 * the repositories go through `Database`.
 */
export function dataSourceOptions(databaseUrl: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: { max: poolSize, application_name: 'credential-vault' },
  };
}

/** Creates the database named in the URL when it does not exist (for the one-command start). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      // Another process created it between our check and our CREATE (42P04, or 23505 when both CREATEs ran
      // at the same moment).
      const code = (err as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so two processes starting at once do not race:
 * the second waits for the first and then finds nothing left to do. Returns the names of the migrations run.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const done = await dataSource.runMigrations({ transaction: 'each' });
      return done.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** Connects a short-lived data source, creates the database if needed and migrates it. */
export async function migrateDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const ds = new DataSource(dataSourceOptions(databaseUrl, 2));
  await ds.initialize();
  try {
    return await runMigrationsLocked(ds);
  } finally {
    await ds.destroy();
  }
}

/**
 * Names of this build's migrations that the database has not applied yet (all of them on an empty database).
 * Fails with PostgreSQL's 3D000 when the database does not exist.
 */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const table = await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations') AS t`);
    const applied = table.rows[0]?.t
      ? (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name)
      : [];
    return MIGRATIONS.map((m) => m.name).filter((name) => !applied.includes(name));
  } finally {
    await client.end();
  }
}
