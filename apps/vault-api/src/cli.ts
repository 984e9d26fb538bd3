import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  API_KEY_SCOPES,
  ApiKeysService,
  CoreModule,
  DataKeyRotation,
  KeyRotationService,
  VaultError,
  generateApiKey,
  loadConfig,
  prepareDatabase,
  runMigrations,
  type VaultConfig,
} from '@vault/core';
import { presentDataKey, presentKeyRotationJob } from './dto/key-rotation.dto';

const USAGE = `usage:
  vault migrate
  vault rewrap-data-keys          (after rotating the KMS key: re-wraps every data key under the current one)
  vault list-data-keys            (each data key, when it was retired, how many sealed values are under it)
  vault retire-data-key ID [--wait]
                                  (stops sealing under the key and starts the worker's job that re-seals what is
                                   under it, then deletes it; --wait follows the job until it ends)
  vault create-api-key --name NAME --scopes scope1,scope2 [--tenant TENANT_ID]
  vault generate-api-key          (prints a new random key, e.g. for BOOTSTRAP_API_KEY; stores nothing)
scopes: ${API_KEY_SCOPES.join(', ')} (a key with --tenant: only tokens:read, connections:read, connections:write)`;

/** stdout carries the commands' output: Nest's start-up lines are dropped, its warnings and errors go to stderr. */
const quietLogger: LoggerService = {
  log: () => undefined,
  warn: (message: unknown) => console.error(String(message)),
  error: (message: unknown) => console.error(String(message)),
};

/** Runs `work` on a Nest application context over CoreModule (the same services the apps use), then closes it. */
async function withCore<T>(
  config: VaultConfig,
  work: (core: INestApplicationContext) => Promise<T>,
): Promise<T> {
  await prepareDatabase(config);
  const core = await NestFactory.createApplicationContext(
    CoreModule.forRoot({ config, processName: 'vault-cli' }),
    { logger: quietLogger, abortOnError: false },
  );
  try {
    return await work(core);
  } finally {
    await core.close();
  }
}

/** Operator commands. Exit codes: 0 done, 2 bad usage or input, 1 anything else. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'generate-api-key') {
    console.log(generateApiKey());
    return 0;
  }
  const config = loadConfig();
  switch (command ?? '') {
    case 'migrate': {
      const ran = await runMigrations(config);
      console.log(ran.length ? `ran migrations: ${ran.join(', ')}` : 'database is up to date');
      return 0;
    }
    case 'rewrap-data-keys': {
      const n = await withCore(config, (core) => core.get(DataKeyRotation).rewrapAll());
      console.log(`re-wrapped ${n} data key(s) under the current KMS key`);
      return 0;
    }
    case 'list-data-keys': {
      const keys = await withCore(config, (core) => core.get(KeyRotationService).listDataKeys());
      for (const k of keys) console.log(JSON.stringify(presentDataKey(k)));
      return 0;
    }
    case 'retire-data-key': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { wait: { type: 'boolean' } },
        allowPositionals: true,
      });
      const [id] = positionals;
      if (!id || positionals.length > 1) break;
      return withCore(config, async (core) => {
        const rotation = core.get(KeyRotationService);
        let job = await rotation.retireDataKey(id);
        console.log(JSON.stringify(presentKeyRotationJob(job)));
        while (values.wait && (job.state === 'queued' || job.state === 'running')) {
          await new Promise((r) => setTimeout(r, 1000));
          job = await rotation.get(job.id);
          console.error(`${job.state}: ${job.done} re-sealed, ${String(job.remaining)} remaining`);
        }
        if (values.wait) console.log(JSON.stringify(presentKeyRotationJob(job)));
        return job.state === 'failed' ? 1 : 0;
      });
    }
    case 'create-api-key': {
      const { values } = parseArgs({
        args: rest,
        options: { name: { type: 'string' }, scopes: { type: 'string' }, tenant: { type: 'string' } },
      });
      if (!values.name) break;
      const scopes = (values.scopes ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const { key, record } = await withCore(config, (core) =>
        core.get(ApiKeysService).create({ name: values.name ?? '', scopes, tenantId: values.tenant ?? null }),
      );
      const created = {
        id: record.id,
        name: record.name,
        scopes: record.scopes,
        tenant_id: record.tenantId,
        key,
      };
      console.log(JSON.stringify(created));
      console.error('The key is shown once; it is stored only hashed.');
      return 0;
    }
    default:
      break;
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown }).code;
    if (err instanceof VaultError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`${message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(message);
    process.exit(1);
  },
);
