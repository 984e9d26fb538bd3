import 'reflect-metadata';
import { loadConfig } from '@vault/core';
import { migrateDatabase } from '@vault/persistence';
import { createApiApp } from './create-app';

async function main(): Promise<void> {
  const config = loadConfig();
  await migrateDatabase(config.DATABASE_URL);
  const { app } = await createApiApp(config);
  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((err: unknown) => {
  // Configuration errors name the bad variable and never its value; print the message only.
  console.error(err instanceof Error ? `vault-api failed to start: ${err.message}` : err);
  process.exit(1);
});
