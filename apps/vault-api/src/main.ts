import 'reflect-metadata';
import { loadConfig, prepareDatabase } from '@vault/core';
import { createApiApp } from './create-app';

async function main(): Promise<void> {
  const config = loadConfig();
  // Creates and migrates the database with MIGRATE_ON_START (default outside production); else only checks.
  await prepareDatabase(config);
  const { app } = await createApiApp(config);
  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((err: unknown) => {
  // Configuration errors name the bad variable and never its value; print the message only.
  console.error(err instanceof Error ? `vault-api failed to start: ${err.message}` : err);
  process.exit(1);
});
