import {
  checkTarget,
  explainRefusal,
  type OutboundPolicy,
  parseAllowedHosts,
  parseTarget,
} from '@vault/providers';
import { z } from 'zod';
import { isWellFormedApiKey } from '../api-keys/key-format';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

/** Environment variables of docs/contract.md, "Configuration" (plus a few extensions, marked). Defaults suit one local machine. */
const envShape = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/vault'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** Extension: prefix of every Redis key and BullMQ queue, so several vaults (or test runs) share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('vault'),
  PORT: port.default(3000),
  WORKER_PORT: port.default(3001),
  /** Extension: the address both HTTP servers bind to. */
  HOST: z.string().min(1).default('0.0.0.0'),
  KMS_DRIVER: z.enum(['local', 'aws']).default('local'),
  KMS_KEY_ID: z.string().min(1).optional(),
  KMS_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  LOCAL_KMS_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional(),
  /** Extension: former local master keys (comma-separated base64), still accepted to open data keys. */
  LOCAL_KMS_PREVIOUS_KEYS: z
    .string()
    .refine(
      (v) => v.split(',').every((k) => Buffer.from(k, 'base64').length === 32),
      'must be base64 32-byte keys, comma-separated',
    )
    .optional(),
  /** Extension: where a generated development master key is kept (git-ignored). */
  LOCAL_KMS_KEY_FILE: z.string().min(1).default('.local/kms-master.key'),
  BOOTSTRAP_API_KEY: z
    .string()
    .refine(
      isWellFormedApiKey,
      'must be a key made by `npm run cli -- generate-api-key` (vk_ + 49 base62 characters with its checksum)',
    )
    .optional(),
  /** Extension: where `npm start` in development keeps a generated admin key when BOOTSTRAP_API_KEY is unset. */
  BOOTSTRAP_API_KEY_FILE: z.string().min(1).default('.local/bootstrap-api-key'),
  REFRESH_MARGIN_SECONDS: z.coerce.number().int().min(0).default(300),
  WEBHOOK_URL: z.url().optional(),
  /**
   * Host names (or IP literals), comma-separated, that may resolve to loopback or private addresses in
   * production (outbound URL rules, design 6b). Link-local and metadata addresses stay refused.
   */
  ALLOWED_PRIVATE_HOSTS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const { hosts, invalid } = parseAllowedHosts(value);
      if (invalid.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `${invalid.length} entr${invalid.length === 1 ? 'y is' : 'ies are'} not a bare host name or IP (no scheme, port or path)`,
        });
      }
      return hosts;
    }),
  WEBHOOK_SECRET: z.string().min(16).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Extension: largest accepted request body. */
  BODY_LIMIT_BYTES: positiveInt.default(64 * 1024),
  /** Extension: PostgreSQL pool size per process. */
  DATABASE_POOL_SIZE: positiveInt.default(10),
  /**
   * Extension: how long opening a PostgreSQL connection may take before the answer is 503 `unavailable`, so
   * an unreachable database fails fast.
   */
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt.default(5000),
  /**
   * Extension: the API's token cache answers a connection's row from memory for at most this long after
   * reading it, whatever happens to invalidation messages (the staleness bound); 0 turns the cache off.
   */
  TOKEN_CACHE_MAX_AGE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Extension: connections the API's token cache holds at most (least recently used out first). */
  TOKEN_CACHE_MAX_ENTRIES: positiveInt.default(100_000),
  /** Extension: a data key seals records for at most this long, then a new one is generated. */
  DATA_KEY_MAX_AGE_SECONDS: positiveInt.default(7 * 24 * 3600),
  /** Extension: a data key seals at most this many records per process. */
  DATA_KEY_MAX_USES: positiveInt.default(1_000_000),
  /** Extension: values re-sealed per statement while a retired data key's job runs (smaller: gentler on the DB). */
  KEY_ROTATION_BATCH_SIZE: positiveInt.default(200),
  /** Extension: the provider call's timeout unless an integration sets its own. */
  PROVIDER_TIMEOUT_MS: positiveInt.default(30_000),
  /** Extension: first wait after a transient refresh failure; doubles per failure. */
  REFRESH_BACKOFF_BASE_SECONDS: positiveInt.default(30),
  /** Extension: longest wait between refresh retries. */
  REFRESH_BACKOFF_MAX_SECONDS: positiveInt.default(3600),
  /** Extension: how often the worker's sweep looks for due connections. */
  SWEEP_INTERVAL_MS: positiveInt.default(2000),
  /** Extension: the sweep enqueues connections due within this many seconds (as delayed jobs). */
  SWEEP_LOOKAHEAD_SECONDS: positiveInt.default(30),
  /**
   * Extension: connections claimed per sweep round (one statement; its time and WAL grow with it: each claimed
   * row is on its own page, a full-page image after a checkpoint). A sweep makes up to 20 rounds.
   */
  SWEEP_BATCH_SIZE: positiveInt.default(500),
  /** Extension: a claimed connection is claimed again after this long if its job was lost. */
  REFRESH_CLAIM_LEASE_SECONDS: positiveInt.default(120),
  /** Extension: refresh jobs run at once per worker process. */
  WORKER_CONCURRENCY: positiveInt.default(64),
  /** Extension: connections due within the same second refreshed by one BullMQ job, at most this many. */
  REFRESH_JOB_BATCH_SIZE: positiveInt.default(20),
  /** Extension: `refreshed` events and finished refresh attempts older than this are deleted by the worker. */
  HISTORY_RETENTION_DAYS: positiveInt.default(30),
  /** Extension: audit rows older than this are deleted by the worker (with the history, hourly). */
  AUDIT_RETENTION_DAYS: positiveInt.default(90),
  /** Extension: how often the audit trail's buffer (aggregated token reads, actions) is written. */
  AUDIT_FLUSH_INTERVAL_MS: positiveInt.default(5000),
  /** Extension: audit records buffered at most between flushes; beyond it they are dropped and counted. */
  AUDIT_BUFFER_MAX_ENTRIES: positiveInt.default(100_000),
  /** Longest wait a provider may impose through Retry-After or a rate-limit reset (design 6b). */
  RATE_LIMIT_MAX_WAIT_SECONDS: positiveInt.default(3600),
  /**
   * Floor between two refreshes of one connection (design 6b): an `expires_in` of 0 or a tiny one, or reads
   * asking a `min_ttl` no fresh token can give, never call the provider more often than this.
   */
  MIN_REFRESH_INTERVAL_SECONDS: positiveInt.default(60),
  /**
   * Extension: how long a Redis command (a refresh lock, a rate-limit mark) may take before the answer is 503
   * `unavailable`, so an unreachable Redis fails fast instead of hanging requests.
   */
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(1000),
  /** Extension: refresh cadence for connections whose provider gives no expiry and has no catalogue default. */
  DEFAULT_REFRESH_INTERVAL_SECONDS: positiveInt.default(3600),
  /**
   * Extension: create the database and run migrations when a process starts. Default: on, except with
   * NODE_ENV=production, where `npm run migrate` runs once and a process refuses to start while one is pending.
   */
  MIGRATE_ON_START: z.enum(['true', 'false', '1', '0']).optional(),
  /**
   * Where end users' browsers reach the API (default `http://localhost:$PORT`); the OAuth callback of connect
   * sessions is PUBLIC_URL/v1/oauth/callback.
   */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Days before a refresh token's known death from which its connection is flagged as due for re-consent. */
  REAUTH_WARNING_DAYS: positiveInt.default(7),
});

export const configSchema = envShape.superRefine((env, ctx) => {
  if (env.KMS_DRIVER === 'aws' && !env.KMS_KEY_ID) {
    ctx.addIssue({ code: 'custom', path: ['KMS_KEY_ID'], message: 'is required when KMS_DRIVER=aws' });
  }
  if (env.KMS_DRIVER === 'local' && env.NODE_ENV === 'production') {
    ctx.addIssue({
      code: 'custom',
      path: ['KMS_DRIVER'],
      message: 'local is refused when NODE_ENV=production; use aws',
    });
  }
  if (env.WEBHOOK_URL) {
    // The rules that need no DNS; the addresses the name resolves to are checked on every delivery.
    const target = parseTarget(env.WEBHOOK_URL);
    const refusal = typeof target === 'string' ? target : checkTarget(target, outboundPolicy(env));
    if (refusal) ctx.addIssue({ code: 'custom', path: ['WEBHOOK_URL'], message: explainRefusal(refusal) });
  }
  if (env.WEBHOOK_URL && !env.WEBHOOK_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['WEBHOOK_SECRET'],
      message: 'is required when WEBHOOK_URL is set',
    });
  }
});

export type VaultConfig = Omit<z.infer<typeof configSchema>, 'MIGRATE_ON_START' | 'PUBLIC_URL'> & {
  MIGRATE_ON_START: boolean;
  PUBLIC_URL: string;
};

/** Settings whose default depends on another one, resolved once validation has passed. */
function withDerivedDefaults(env: z.infer<typeof configSchema>): VaultConfig {
  const migrate = env.MIGRATE_ON_START;
  return {
    ...env,
    MIGRATE_ON_START:
      migrate === undefined ? env.NODE_ENV !== 'production' : migrate === 'true' || migrate === '1',
    PUBLIC_URL: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
  };
}

/** The outbound URL rules of this configuration (token, revoke, authorize and webhook URLs). */
export function outboundPolicy(
  config: Pick<VaultConfig, 'NODE_ENV' | 'ALLOWED_PRIVATE_HOSTS'>,
): OutboundPolicy {
  return { production: config.NODE_ENV === 'production', allowedPrivateHosts: config.ALLOWED_PRIVATE_HOSTS };
}

export class ConfigError extends Error {
  constructor(
    readonly variables: string[],
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * The only reader of `process.env`. Fails naming each bad variable and why, never printing a value.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): VaultConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envShape.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = configSchema.safeParse(input);
  if (parsed.success) return withDerivedDefaults(parsed.data);
  const problems = parsed.error.issues.map((i) => {
    const name = i.path.join('.') || '(config)';
    // zod messages describe the expectation; strip any echo of the received value.
    const why = i.message.replace(/, received .*$/, '');
    return { name, text: `${name}: ${why}` };
  });
  return failConfig(problems);
}

function failConfig(problems: { name: string; text: string }[]): never {
  throw new ConfigError(
    problems.map((p) => p.name),
    `Invalid configuration: ${problems.map((p) => p.text).join('; ')}`,
  );
}

export const VAULT_CONFIG = Symbol('VAULT_CONFIG');
