'use strict';
/**
 * One benchmark run: its log, its knobs, and everything it creates (child processes, a database, a Redis
 * prefix, a temporary directory), released by `cleanup()` on success, on failure and on Ctrl-C.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { Redis } = require('ioredis');

const ROOT = path.join(__dirname, '..', '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const PG_ADMIN_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

const t0 = Date.now();
const run = {
  id: crypto.randomBytes(4).toString('hex'),
  databases: [],
  redisPrefixes: [],
  tmpDirs: [],
  children: [],
  cleaning: null,
};

function log(msg) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
}

/** A positive integer knob from the environment (`dflt` when unset). */
function intEnv(name, dflt) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function round3(v) {
  return v === null || v === undefined || Number.isNaN(v) ? null : Math.round(v * 1000) / 1000;
}

function dbUrl(name) {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withPg(url, fn) {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database dropped at cleanup; the vault migrates it when it starts. */
async function createDatabase(kind) {
  const name = `vault_bench_${kind}_${run.id}`;
  await withPg(PG_ADMIN_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
  run.databases.push(name);
  return { name, url: dbUrl(name) };
}

/** A Redis key prefix whose keys are deleted at cleanup. */
function redisPrefix(kind) {
  const prefix = `vault-bench-${kind}-${run.id}`;
  run.redisPrefixes.push(prefix);
  return prefix;
}

function tmpDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-bench-'));
  run.tmpDirs.push(dir);
  return dir;
}

/**
 * Deletes the vault's keys under `<prefix>:` (its own keys and BullMQ's `<prefix>:bull:…`) with SCAN + DEL:
 * never FLUSHALL, the Redis server is shared.
 */
async function deleteRedisKeys(prefix) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

async function cleanup() {
  run.cleaning ??= (async () => {
    const { stopChild } = require('./processes');
    for (const child of [...run.children].reverse()) await stopChild(child, 5_000).catch(() => undefined);
    for (const name of run.databases) {
      await withPg(PG_ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
        .then(() => log(`dropped database ${name}`))
        .catch((err) => console.error(`could not drop database ${name}: ${err.message}`));
    }
    for (const prefix of run.redisPrefixes) {
      await deleteRedisKeys(prefix)
        .then((n) => log(`deleted ${n} Redis keys ${prefix}:*`))
        .catch((err) => console.error(`could not clean Redis ${prefix}:*: ${err.message}`));
    }
    for (const dir of run.tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  })();
  return run.cleaning;
}

/** Runs the benchmark's main, then cleans up; exits 1 on an error (a missed target is not an error). */
function main(name, fn) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping children, dropping the database...`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  fn().then(
    () => cleanup().then(() => process.exit(0)),
    (err) => {
      console.error(`\n${name} FAILED: ${err && err.stack ? err.stack : err}`);
      return cleanup().then(() => process.exit(1));
    },
  );
}

/** Writes the figures as JSON in bench/results/ and says where. */
function writeResults(name, figures) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = path.join(RESULTS_DIR, `${name}-${stamp}.json`);
  fs.writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
  log(`figures written to ${path.relative(ROOT, out)}`);
  return out;
}

module.exports = {
  ROOT,
  RESULTS_DIR,
  PG_ADMIN_URL,
  REDIS_URL,
  run,
  log,
  intEnv,
  sleep,
  round3,
  dbUrl,
  withPg,
  createDatabase,
  redisPrefix,
  tmpDir,
  deleteRedisKeys,
  cleanup,
  main,
  writeResults,
};
