import { migrateDatabase, pendingMigrations } from '@vault/persistence';
import type { VaultConfig } from '../config/vault-config';

/** `npm run migrate` in a checkout; the same command as the CLI inside the image. */
const MIGRATE_COMMAND =
  '`npm run migrate` (in the image: node dist/apps/vault-api/apps/vault-api/src/cli.js migrate)';

/** Creates the database if it is missing and runs pending migrations, under the migration advisory lock. */
export function runMigrations(config: Pick<VaultConfig, 'DATABASE_URL'>): Promise<string[]> {
  return migrateDatabase(config.DATABASE_URL);
}

/**
 * What a process does with the schema before it serves: with MIGRATE_ON_START (the default outside
 * production, so `npm start` works on a fresh machine) it creates the database and migrates it; without
 * (production) it only checks, and refuses to start while a migration is pending, naming the command to run.
 * Returns the migrations it ran.
 */
export async function prepareDatabase(
  config: Pick<VaultConfig, 'DATABASE_URL' | 'MIGRATE_ON_START'>,
): Promise<string[]> {
  if (config.MIGRATE_ON_START) return runMigrations(config);
  let pending: string[];
  try {
    pending = await pendingMigrations(config.DATABASE_URL);
  } catch (err) {
    if ((err as { code?: unknown }).code !== '3D000') throw err;
    throw new Error(
      `the database named in DATABASE_URL does not exist and MIGRATE_ON_START is off: run ${MIGRATE_COMMAND} once, then start again`,
      { cause: err },
    );
  }
  if (pending.length === 0) return [];
  throw new Error(
    `the database has ${pending.length} pending migration(s) (${pending.join(', ')}) and MIGRATE_ON_START is off: ` +
      `run ${MIGRATE_COMMAND} once, then start again`,
  );
}
