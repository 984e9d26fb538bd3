import 'reflect-metadata';
import { loadConfig, prepareDatabase } from '@vault/core';
import { createWorkerApp } from './create-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  // Creates and migrates the database with MIGRATE_ON_START (default outside production); else only checks.
  await prepareDatabase(config);
  const app = await createWorkerApp(config);
  await app.listen({ port: config.WORKER_PORT, host: config.HOST });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `vault-worker failed to start: ${err.message}` : err);
  process.exit(1);
});
