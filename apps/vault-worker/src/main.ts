import 'reflect-metadata';
import { loadConfig } from '@vault/core';
import { migrateDatabase } from '@vault/persistence';
import { createWorkerApp } from './create-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  await migrateDatabase(config.DATABASE_URL);
  const app = await createWorkerApp(config);
  await app.listen({ port: config.WORKER_PORT, host: config.HOST });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `vault-worker failed to start: ${err.message}` : err);
  process.exit(1);
});
