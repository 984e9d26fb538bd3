import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ApiKeysService, MetricsService, createKmsDriver, generateApiKey, loadConfig } from '@vault/core';
import { EnvelopeCipher } from '@vault/crypto';
import {
  API_KEY_SCOPES,
  ApiKeysRepository,
  DataKeysRepository,
  Database,
  migrateDatabase,
  type ApiKeyScope,
} from '@vault/persistence';

const USAGE = `usage:
  vault migrate
  vault rewrap-data-keys          (after rotating the KMS key: re-wraps every data key under the current one)
  vault create-api-key --name NAME --scopes scope1,scope2 [--tenant TENANT_ID]
  vault generate-api-key          (prints a new random key, e.g. for BOOTSTRAP_API_KEY; stores nothing)
scopes: ${API_KEY_SCOPES.join(', ')} (a key with --tenant: only tokens:read, connections:read, connections:write)`;

/** Operator commands: run migrations (under the advisory lock), create an API key. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'generate-api-key') {
    console.log(generateApiKey());
    return 0;
  }
  const config = loadConfig();
  if (command === 'migrate') {
    const ran = await migrateDatabase(config.DATABASE_URL);
    console.log(ran.length ? `ran migrations: ${ran.join(', ')}` : 'database is up to date');
    return 0;
  }
  if (command === 'rewrap-data-keys') {
    await migrateDatabase(config.DATABASE_URL);
    const db = Database.connect({
      url: config.DATABASE_URL,
      poolSize: 1,
      applicationName: 'credential-vault/cli',
    });
    try {
      const metrics = new MetricsService('vault-cli');
      const kms = createKmsDriver(config, metrics, (m) => console.error(m));
      const cipher = new EnvelopeCipher(
        kms,
        new DataKeysRepository(db),
        {
          dataKeyMaxAgeMs: config.DATA_KEY_MAX_AGE_SECONDS * 1000,
          dataKeyMaxUses: config.DATA_KEY_MAX_USES,
          cacheMaxEntries: 1000,
          cacheMaxAgeMs: 3600_000,
        },
        metrics,
      );
      console.log(`re-wrapped ${await cipher.rewrapDataKeys()} data key(s) under the current KMS key`);
    } finally {
      await db.close();
    }
    return 0;
  }
  if (command === 'create-api-key') {
    const { values } = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, scopes: { type: 'string' }, tenant: { type: 'string' } },
    });
    const scopes = (values.scopes ?? '').split(',').filter(Boolean);
    const bad = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
    if (!values.name || scopes.length === 0 || bad.length > 0) {
      console.error(bad.length ? `unknown scope(s): ${bad.join(', ')}\n${USAGE}` : USAGE);
      return 2;
    }
    await migrateDatabase(config.DATABASE_URL);
    const db = Database.connect({
      url: config.DATABASE_URL,
      poolSize: 1,
      applicationName: 'credential-vault/cli',
    });
    try {
      const { key, record } = await new ApiKeysService(new ApiKeysRepository(db)).create({
        name: values.name,
        scopes: scopes as ApiKeyScope[],
        tenantId: values.tenant ?? null,
      });
      console.log(
        JSON.stringify({
          id: record.id,
          name: record.name,
          scopes: record.scopes,
          tenant_id: record.tenantId,
          key,
        }),
      );
      console.error('The key is shown once; it is stored only hashed.');
    } finally {
      await db.close();
    }
    return 0;
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
