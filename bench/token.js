'use strict';
/**
 * `npm run bench:token`: throughput and latency of the token hot path
 * (`GET /v1/connections/:id/token?min_ttl=60`) of vault-api, against a bare baseline (bench/bare-server.js)
 * that does only the irreducible work (one primary-key SELECT + one AES-GCM open + JSON).
 *
 * Steps: build if stale -> fresh database + Redis prefix + keys -> start vault-api -> seed BENCH_ROWS
 * connections through the API -> start the bare server -> for each target, a warm-up, a max-throughput run
 * and a run at half of that max rate (load from a separate process, bench/load.js) -> KMS calls from
 * /metrics -> summary table, PASS/FAIL against the targets, JSON in bench/results/.
 *
 * Exits non-zero only on errors (including any non-2xx answer under load); a missed target prints FAIL.
 *
 * Env knobs:
 *   BENCH_DURATION     seconds of each measured run (default 15)
 *   BENCH_WARMUP       seconds of the warm-up run before each target (default 3)
 *   BENCH_CONNECTIONS  concurrent HTTP connections of the load generator (default 50)
 *   BENCH_ROWS         connections seeded (default 10000)
 *   BENCH_LOG_LEVEL    LOG_LEVEL of vault-api (default silent)
 *   BENCH_SKIP_BUILD=1 use dist/ as it is
 *   BENCH_PROFILE=1    CPU-profile vault-api during its max-throughput run; prints the top costs and keeps
 *                      the .cpuprofile in bench/results/
 */
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');

const ROOT = path.join(__dirname, '..');
const API_MAIN = path.join(ROOT, 'dist/apps/vault-api/apps/vault-api/src/main.js');
const API_CLI = path.join(ROOT, 'dist/apps/vault-api/apps/vault-api/src/cli.js');
const SEALED_JS = path.join(ROOT, 'dist/apps/vault-api/libs/crypto/src/sealed.js');
const RESULTS_DIR = path.join(__dirname, 'results');

const PG_ADMIN_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const POOL_SIZE = 10; // vault-api's default DATABASE_POOL_SIZE; the bare server uses the same

const cfg = {
  duration: intEnv('BENCH_DURATION', 15),
  warmup: intEnv('BENCH_WARMUP', 3),
  connections: intEnv('BENCH_CONNECTIONS', 50),
  rows: intEnv('BENCH_ROWS', 10_000),
  seedConcurrency: 32,
  logLevel: process.env.BENCH_LOG_LEVEL || 'silent',
  skipBuild: process.env.BENCH_SKIP_BUILD === '1',
  profile: process.env.BENCH_PROFILE === '1',
};

/** The targets of the hot path (design: token read). */
const TARGETS = { minThroughputRatio: 0.7, maxP99AtHalfRateMs: 10 };

// ---------------------------------------------------------------------------------------------------------
// Process and resource bookkeeping: everything created here is released in cleanup(), also on Ctrl-C.

const run = {
  id: crypto.randomBytes(4).toString('hex'),
  dbName: null,
  redisPrefix: null,
  tmpDir: null,
  children: [],
  cleaning: null,
};
const t0 = Date.now();

function log(msg) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
}

function intEnv(name, dflt) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

/** Starts a child process, keeps the tail of its output for error reports, and registers it for cleanup. */
function startChild(name, args, env) {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line) tail.push(line);
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const child = { name, proc, tail, exited: false };
  proc.on('exit', (code, signal) => {
    child.exited = true;
    child.exit = signal || code;
  });
  run.children.push(child);
  return child;
}

function childFailure(child) {
  return new Error(`${child.name} exited (${child.exit}); last output:\n  ${child.tail.join('\n  ')}`);
}

async function stopChild(child) {
  if (child.exited) return;
  const exited = new Promise((resolve) => child.proc.once('exit', resolve));
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function cleanup() {
  run.cleaning ??= (async () => {
    await Promise.all(run.children.map((c) => stopChild(c).catch(() => {})));
    if (run.dbName) {
      const pg = new Client({ connectionString: PG_ADMIN_URL });
      try {
        await pg.connect();
        await pg.query(`DROP DATABASE IF EXISTS "${run.dbName}" WITH (FORCE)`);
        log(`dropped database ${run.dbName}`);
      } catch (err) {
        console.error(`could not drop database ${run.dbName}: ${err.message}`);
      } finally {
        await pg.end().catch(() => {});
      }
    }
    if (run.redisPrefix)
      await deleteRedisKeys(run.redisPrefix).catch((e) => console.error(`redis: ${e.message}`));
    if (run.tmpDir) fs.rmSync(run.tmpDir, { recursive: true, force: true });
  })();
  return run.cleaning;
}

async function deleteRedisKeys(prefix) {
  const IORedis = require('ioredis');
  const Redis = IORedis.Redis || IORedis;
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    if (deleted) log(`deleted ${deleted} Redis key(s) under ${prefix}`);
  } finally {
    redis.disconnect();
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping children and dropping the database...`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Build

function newestMtime(dir, filter) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, filter));
    else if (filter(entry.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuild() {
  const built = fs.existsSync(API_MAIN) && fs.existsSync(SEALED_JS) ? fs.statSync(API_MAIN).mtimeMs : 0;
  if (cfg.skipBuild) {
    if (!built) throw new Error('BENCH_SKIP_BUILD=1 but dist/ has no vault-api build');
    log('BENCH_SKIP_BUILD=1: using dist/ as it is');
    return;
  }
  const isSource = (n) => n.endsWith('.ts') && !n.endsWith('.spec.ts');
  const sources = Math.max(
    newestMtime(path.join(ROOT, 'apps/vault-api'), isSource),
    newestMtime(path.join(ROOT, 'libs'), isSource),
    ...['tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'apps/vault-api/tsconfig.app.json']
      .map((f) => path.join(ROOT, f))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.statSync(f).mtimeMs),
  );
  if (built && built >= sources) {
    log('dist/ is up to date');
    return;
  }
  log(
    built
      ? 'sources are newer than dist/: building vault-api...'
      : 'no build in dist/: building vault-api...',
  );
  const started = Date.now();
  // Only the API is benchmarked, so only it is built (`npm run build` also builds the worker).
  const res = spawnSync(path.join(ROOT, 'node_modules/.bin/nest'), ['build', 'vault-api'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    throw new Error(`nest build vault-api failed:\n${res.stdout}\n${res.stderr}`);
  }
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(child, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exited) throw childFailure(child);
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (err) {
      last = err.cause?.code || err.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms (${last})`);
}

/** JSON call to the vault API; throws unless the status is the expected one. */
async function apiCall(base, apiKey, method, pathname, body, expected) {
  const res = await fetch(base + pathname, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status !== expected) {
    throw new Error(
      `${method} ${pathname}: HTTP ${res.status} (expected ${expected}): ${text.slice(0, 500)}`,
    );
  }
  return text ? JSON.parse(text) : null;
}

/** Runs `count` tasks with at most `concurrency` in flight. */
async function pool(count, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

// ---------------------------------------------------------------------------------------------------------
// Metrics and CPU accounting

/** Sums the samples of a Prometheus counter by one label, optionally filtered by other labels. */
function promSum(text, metric, byLabel, where = {}) {
  const out = {};
  const re = new RegExp(`^${metric}\\{([^}]*)\\}\\s+([0-9.eE+-]+)`, 'gm');
  for (const m of text.matchAll(re)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(where).some(([k, v]) => labels[k] !== v)) continue;
    out[labels[byLabel]] = (out[labels[byLabel]] || 0) + Number(m[2]);
  }
  return out;
}

async function readVaultMetrics(base) {
  const res = await fetch(`${base}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const text = await res.text();
  const kms = promSum(text, 'vault_kms_requests_total', 'operation', { process: 'vault-api' });
  const cache = promSum(text, 'vault_data_key_cache_total', 'result', { process: 'vault-api' });
  return {
    generateDataKey: kms.GenerateDataKey || 0,
    decrypt: kms.Decrypt || 0,
    encrypt: kms.Encrypt || 0,
    kmsTotal: Object.values(kms).reduce((a, b) => a + b, 0),
    kmsErrors:
      Object.values(promSum(text, 'vault_kms_requests_total', 'outcome', { outcome: 'error' }))[0] || 0,
    cacheHit: cache.hit || 0,
    cacheMiss: cache.miss || 0,
  };
}

const CLK_TCK = 100; // Linux USER_HZ

/** CPU seconds used so far by a process (Linux /proc; null elsewhere). */
function procCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
  } catch {
    return null;
  }
}

/** CPU seconds used so far by each PostgreSQL process, by pid (Linux /proc; null elsewhere). */
function postgresCpu() {
  const byPid = new Map();
  try {
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres')
          byPid.set(pid, procCpuSeconds(pid) || 0);
      } catch {
        // the process exited meanwhile
      }
    }
  } catch {
    return null;
  }
  return byPid;
}

/** CPU seconds PostgreSQL used between two snapshots (processes that exited meanwhile are not counted). */
function postgresCpuDelta(before, after) {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) || 0);
  return sum;
}

/** Busy and total CPU seconds of the whole machine (Linux /proc/stat; null elsewhere). */
function machineCpu() {
  try {
    const nums = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = nums.reduce((a, b) => a + b, 0);
    const idle = nums[3] + (nums[4] || 0); // idle + iowait
    return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Load

/** One autocannon run in a separate process (bench/load.js); returns its JSON report plus CPU shares. */
async function loadRun(target, { duration, overallRate }) {
  const opts = {
    url: target.base,
    idsFile: target.idsFile,
    headers: target.headers,
    duration,
    connections: cfg.connections,
    overallRate,
  };
  const serverCpu0 = procCpuSeconds(target.child.proc.pid);
  const machine0 = machineCpu();
  const pg0 = postgresCpu();
  const child = startChild('load', [path.join(__dirname, 'load.js'), JSON.stringify(opts)], process.env);
  let stdout = '';
  child.proc.stdout.on('data', (d) => (stdout += d));
  const code = await new Promise((resolve) => child.proc.on('exit', (c, s) => resolve(s || c)));
  if (code !== 0) throw childFailure(child);
  if (target.child.exited) throw childFailure(target.child);
  const report = JSON.parse(stdout.trim().split('\n').pop());
  const serverCpu1 = procCpuSeconds(target.child.proc.pid);
  const machine1 = machineCpu();
  const pg1 = postgresCpu();
  if (serverCpu0 !== null && serverCpu1 !== null && machine0 && machine1 && pg0 && pg1) {
    const cores = os.cpus().length;
    const wall = (machine1.total - machine0.total) / cores;
    const serverPct = (100 * (serverCpu1 - serverCpu0)) / wall;
    const loadGenPct = (100 * report.loadCpuSeconds) / wall;
    const postgresPct = (100 * postgresCpuDelta(pg0, pg1)) / wall;
    const machinePct = (100 * (machine1.busy - machine0.busy)) / wall;
    report.cpu = {
      // Percent of ONE core (the machine has `cores` of them), over the wall time of the load process.
      serverPct,
      serverSeconds: serverCpu1 - serverCpu0,
      loadGenPct,
      postgresPct,
      // Whatever else ran meanwhile (kernel, other users' builds and tests): noise in the figures.
      otherPct: Math.max(0, machinePct - serverPct - loadGenPct - postgresPct),
      machineBusyPct: machinePct / cores,
      cores,
    };
  }
  return report;
}

function assertClean(name, label, r) {
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad > 0) {
    throw new Error(
      `${name} ${label}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts ` +
        `(status codes: ${JSON.stringify(r.statusCodes)}) — every answer must be 200`,
    );
  }
}

/** Warm-up, max-throughput run, then a run at half that rate. */
async function benchTarget(target) {
  log(`${target.name}: warm-up ${cfg.warmup} s`);
  assertClean(target.name, 'warm-up', await loadRun(target, { duration: cfg.warmup }));

  if (target.beforeMax) await target.beforeMax();
  log(`${target.name}: max throughput, ${cfg.duration} s, ${cfg.connections} connections`);
  const max = await loadRun(target, { duration: cfg.duration });
  if (target.afterMax) await target.afterMax();
  assertClean(target.name, 'max', max);
  log(`${target.name}: ${fmtRun(max)}`);

  const rate = Math.max(1, Math.floor(max.rps / 2));
  log(`${target.name}: half rate (${rate} req/s), ${cfg.duration} s`);
  const half = await loadRun(target, { duration: cfg.duration, overallRate: rate });
  assertClean(target.name, 'half', half);
  log(`${target.name}: ${fmtRun(half)}`);
  return { max, half: { ...half, targetRate: rate } };
}

function fmtRun(r) {
  const cpu = r.cpu
    ? ` | CPU (% of one core): server ${r.cpu.serverPct.toFixed(0)}, postgres ${r.cpu.postgresPct.toFixed(0)},` +
      ` load gen ${r.cpu.loadGenPct.toFixed(0)}, other ${r.cpu.otherPct.toFixed(0)}` +
      ` (machine ${r.cpu.machineBusyPct.toFixed(0)}% busy of ${r.cpu.cores} cores)`
    : '';
  return (
    `${r.rps.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms, ` +
    `${r.requests} requests${cpu}`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Profile summary (BENCH_PROFILE=1)

/** Self time of a .cpuprofile grouped by function and by package: the top costs of the hot path. */
function summarizeProfile(file) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const selfUs = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) || 0) + (profile.timeDeltas[i] || 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const pkgs = new Map();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const short = url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    const fn = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    fns.set(fn, (fns.get(fn) || 0) + us);
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(short)?.[1] ||
      (short.startsWith('dist/') ? `vault (${short.split('/').slice(3, 5).join('/')})` : null) ||
      (short.startsWith('node:')
        ? 'node core (js)'
        : functionName.startsWith('(')
          ? functionName
          : 'native/other');
    pkgs.set(pkg, (pkgs.get(pkg) || 0) + us);
  }
  const top = (m, n) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ name: k, pct: Math.round((1000 * us) / total) / 10 }));
  return { totalMs: Math.round(total / 1000), byPackage: top(pkgs, 15), byFunction: top(fns, 25) };
}

async function waitFile(file, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main

async function main() {
  log(
    `token benchmark: rows ${cfg.rows}, duration ${cfg.duration} s (+${cfg.warmup} s warm-up), ` +
      `connections ${cfg.connections}, node ${process.version}, ${os.cpus().length} cores`,
  );
  ensureBuild();

  // Fresh, disposable state for this run.
  run.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-bench-'));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const masterKey = crypto.randomBytes(32).toString('base64');
  const apiKey = spawnSync(process.execPath, [API_CLI, 'generate-api-key'], {
    encoding: 'utf8',
  }).stdout.trim();
  const dbName = `vault_bench_${run.id}`;
  {
    const pg = new Client({ connectionString: PG_ADMIN_URL });
    await pg.connect();
    try {
      await pg.query(`CREATE DATABASE "${dbName}"`);
      run.dbName = dbName;
    } finally {
      await pg.end();
    }
  }
  run.redisPrefix = `vault_bench_${run.id}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  log(`database ${dbName}, Redis prefix ${run.redisPrefix}`);

  // vault-api
  const apiPort = await freePort();
  const apiBase = `http://127.0.0.1:${apiPort}`;
  // BENCH_PROFILE=1: both servers preload bench/profile-hook.js, profiled during their max-throughput run.
  const withHook = (script) =>
    cfg.profile ? ['-r', path.join(__dirname, 'profile-hook.js'), script] : [script];
  const profileFiles = {
    vault: path.join(RESULTS_DIR, `token-${stamp}-vault-api.cpuprofile`),
    bare: path.join(RESULTS_DIR, `token-${stamp}-bare.cpuprofile`),
  };
  if (cfg.profile) fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const api = startChild('vault-api', withHook(API_MAIN), {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
    REDIS_URL,
    REDIS_PREFIX: run.redisPrefix,
    KMS_DRIVER: 'local',
    LOCAL_KMS_KEY: masterKey,
    BOOTSTRAP_API_KEY: apiKey,
    LOG_LEVEL: cfg.logLevel,
    BENCH_PROFILE_FILE: profileFiles.vault,
  });
  const apiStarted = Date.now();
  await waitReady(api, `${apiBase}/health/ready`);
  log(
    `vault-api ready on ${apiBase} in ${((Date.now() - apiStarted) / 1000).toFixed(1)} s (LOG_LEVEL=${cfg.logLevel})`,
  );

  // Seed through the API, as a platform would.
  const integration = `bench-${run.id}`;
  await apiCall(
    apiBase,
    apiKey,
    'POST',
    '/v1/integrations',
    {
      key: integration,
      provider: 'oauth2',
      client_id: 'bench-client',
      client_secret: crypto.randomBytes(24).toString('base64url'),
      token_url: 'http://127.0.0.1:9/token',
    },
    201,
  );
  const ids = new Array(cfg.rows);
  const seeded = new Map(); // a few ids -> access token, to check the answers before the load
  const seedStarted = Date.now();
  await pool(cfg.rows, cfg.seedConcurrency, async (i) => {
    const accessToken = `at_${crypto.randomBytes(48).toString('base64url')}`;
    const created = await apiCall(
      apiBase,
      apiKey,
      'POST',
      '/v1/connections',
      {
        integration,
        tenant_id: `tenant-${i % 100}`,
        external_id: `user-${i}`,
        refresh_token: `rt_${crypto.randomBytes(48).toString('base64url')}`,
        access_token: accessToken,
        expires_in: 86_400,
        scopes: ['read', 'write'],
      },
      201,
    );
    ids[i] = created.id;
    if (i < 5) seeded.set(created.id, accessToken);
  });
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  log(
    `seeded ${cfg.rows} connections in ${seedSeconds.toFixed(1)} s (${(cfg.rows / seedSeconds).toFixed(0)}/s, ${cfg.seedConcurrency} in flight)`,
  );
  const idsFile = path.join(run.tmpDir, 'ids.txt');
  fs.writeFileSync(idsFile, ids.join('\n') + '\n');

  // Bare baseline.
  const barePort = await freePort();
  const bareBase = `http://127.0.0.1:${barePort}`;
  const bare = startChild('bare', withHook(path.join(__dirname, 'bare-server.js')), {
    ...process.env,
    BENCH_PROFILE_FILE: profileFiles.bare,
    PORT: String(barePort),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
    LOCAL_KMS_KEY: masterKey,
  });
  await waitReady(bare, `${bareBase}/health`);
  log(`bare server ready on ${bareBase}`);

  // Both must answer the same thing, and the seeded token.
  for (const [id, accessToken] of seeded) {
    const fromVault = await apiCall(
      apiBase,
      apiKey,
      'GET',
      `/v1/connections/${id}/token?min_ttl=60`,
      null,
      200,
    );
    const fromBare = await apiCall(bareBase, '', 'GET', `/v1/connections/${id}/token?min_ttl=60`, null, 200);
    if (fromVault.access_token !== accessToken) throw new Error(`vault answered a wrong token for ${id}`);
    if (JSON.stringify(fromVault) !== JSON.stringify(fromBare)) {
      throw new Error(
        `bare and vault answers differ for ${id}:\n${JSON.stringify(fromVault)}\n${JSON.stringify(fromBare)}`,
      );
    }
  }
  log('answers checked: vault and bare return the same JSON, with the seeded tokens');

  // Load: bare first, then the vault (its /metrics brackets only its own load).
  const results = {};
  /** Start/stop hooks around the max-throughput run that drive bench/profile-hook.js in the child. */
  const profiled = (child, file) =>
    cfg.profile
      ? {
          beforeMax: async () => child.proc.kill('SIGWINCH'),
          afterMax: async () => {
            child.proc.kill('SIGWINCH');
            await waitFile(`${file}.done`, 30_000);
            fs.rmSync(`${file}.done`);
          },
        }
      : {};
  results.bare = await benchTarget({
    name: 'bare',
    base: bareBase,
    child: bare,
    idsFile,
    headers: {},
    ...profiled(bare, profileFiles.bare),
  });

  const metricsBefore = await readVaultMetrics(apiBase);
  results.vault = await benchTarget({
    name: 'vault',
    base: apiBase,
    child: api,
    idsFile,
    headers: { authorization: `Bearer ${apiKey}` },
    ...profiled(api, profileFiles.vault),
  });
  const metricsAfter = await readVaultMetrics(apiBase);

  const dataKeys = await (async () => {
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    try {
      return Number((await pg.query('SELECT count(*) AS n FROM data_keys')).rows[0].n);
    } finally {
      await pg.end();
    }
  })();

  // ---- Summary
  const kms = {
    duringLoad: metricsAfter.kmsTotal - metricsBefore.kmsTotal,
    total: metricsAfter.kmsTotal,
    generateDataKey: metricsAfter.generateDataKey,
    decrypt: metricsAfter.decrypt,
    encrypt: metricsAfter.encrypt,
    errors: metricsAfter.kmsErrors,
    dataKeyRows: dataKeys,
    dataKeyCacheDuringLoad: {
      hit: metricsAfter.cacheHit - metricsBefore.cacheHit,
      miss: metricsAfter.cacheMiss - metricsBefore.cacheMiss,
    },
  };
  const { bare: b, vault: v } = results;
  const ratio = v.max.rps / b.max.rps;
  const checks = [
    {
      name: `vault max throughput >= ${TARGETS.minThroughputRatio * 100} % of bare`,
      pass: ratio >= TARGETS.minThroughputRatio,
      value: `${(ratio * 100).toFixed(1)} %`,
    },
    {
      name: `vault p99 < ${TARGETS.maxP99AtHalfRateMs} ms at half its max rate`,
      pass: v.half.latency.p99 < TARGETS.maxP99AtHalfRateMs,
      value: `${v.half.latency.p99} ms`,
    },
    {
      name: 'no KMS call per request (0 KMS calls during the load)',
      pass: kms.duringLoad === 0,
      value: `${kms.duringLoad} KMS calls for ${
        v.max.requests + v.half.requests
      } measured requests (+ warm-up)`,
    },
  ];

  const row = (name, r) =>
    [
      name.padEnd(6),
      r.max.rps.toFixed(0).padStart(9),
      fmtMs(r.max.latency.p50),
      fmtMs(r.max.latency.p99),
      String(r.half.targetRate).padStart(10),
      fmtMs(r.half.latency.p50),
      fmtMs(r.half.latency.p99),
      (r.max.cpu ? `${r.max.cpu.serverPct.toFixed(0)}%` : '-').padStart(7),
      (r.max.cpu ? `${cpuPerRequestUs(r.max).toFixed(0)} µs` : '-').padStart(10),
    ].join(' │ ');
  const header = [
    'target',
    '  max rps',
    '  p50 max',
    '  p99 max',
    ' half rate',
    ' p50 half',
    ' p99 half',
    'srv CPU',
    'CPU / req',
  ].join(' │ ');
  console.log('\n' + '═'.repeat(header.length));
  console.log(
    `Token hot path — GET /v1/connections/:id/token?min_ttl=60 — ${cfg.rows} rows, ${cfg.connections} connections, ` +
      `${cfg.duration} s per run`,
  );
  console.log('─'.repeat(header.length));
  console.log(header);
  console.log('─'.repeat(header.length));
  console.log(row('bare', b));
  console.log(row('vault', v));
  console.log('─'.repeat(header.length));
  console.log(`vault / bare max throughput: ${(ratio * 100).toFixed(1)} %`);
  const cpuLine = (name, c) =>
    c &&
    `  ${name}: server ${c.serverPct.toFixed(0)}, postgres ${c.postgresPct.toFixed(0)}, load gen ` +
      `${c.loadGenPct.toFixed(0)}, other processes ${c.otherPct.toFixed(0)}`;
  console.log(`CPU during the max runs (% of one core; ${os.cpus().length} cores; "other" is noise):`);
  console.log(cpuLine('bare ', b.max.cpu));
  console.log(cpuLine('vault', v.max.cpu));
  if (Math.max(b.max.cpu?.otherPct || 0, v.max.cpu?.otherPct || 0) > 20) {
    console.log('  WARNING: other processes used much CPU during the runs; the figures are noisy.');
  }
  console.log(
    `KMS calls during the vault load: ${kms.duringLoad} ` +
      `(data key cache during load: ${kms.dataKeyCacheDuringLoad.hit} hit, ${kms.dataKeyCacheDuringLoad.miss} miss)`,
  );
  console.log(
    `KMS calls since vault-api start: ${kms.total} (GenerateDataKey ${kms.generateDataKey}, Decrypt ${kms.decrypt}` +
      `${kms.encrypt ? `, Encrypt ${kms.encrypt}` : ''}) vs ${dataKeys} row(s) in data_keys` +
      (kms.errors ? `; ${kms.errors} KMS error(s)!` : ''),
  );
  console.log(`seeding: ${cfg.rows} connections in ${seedSeconds.toFixed(1)} s through the API`);
  console.log('─'.repeat(header.length));
  for (const c of checks) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
  console.log('═'.repeat(header.length));

  let profile = null;
  if (cfg.profile) {
    profile = {};
    for (const [name, file] of Object.entries(profileFiles)) {
      const p = (profile[name] = summarizeProfile(file));
      console.log(
        `\n${name} CPU profile of its max-throughput run (${p.totalMs} ms sampled): ${path.relative(ROOT, file)}`,
      );
      console.log('  self time by package:');
      for (const x of p.byPackage) console.log(`    ${String(x.pct).padStart(5)} %  ${x.name}`);
      console.log('  self time by function:');
      for (const x of p.byFunction) console.log(`    ${String(x.pct).padStart(5)} %  ${x.name}`);
    }
  }

  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const out = path.join(RESULTS_DIR, `token-${stamp}.json`);
  const slim = (r) => ({
    rps: Math.round(r.rps),
    requests: r.requests,
    targetRate: r.targetRate,
    latencyMs: r.latency,
    non2xx: r.non2xx,
    errors: r.errors,
    cpu: r.cpu,
    serverCpuPerRequestUs: r.cpu ? Math.round(cpuPerRequestUs(r)) : null,
  });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        config: { ...cfg, node: process.version, cores: os.cpus().length, poolSize: POOL_SIZE },
        bare: { max: slim(b.max), half: slim(b.half) },
        vault: { max: slim(v.max), half: slim(v.half) },
        ratio: Math.round(ratio * 1000) / 1000,
        kms,
        seedSeconds,
        checks: checks.map((c) => ({ name: c.name, pass: c.pass, value: c.value })),
        profile:
          profile &&
          Object.fromEntries(
            Object.entries(profile).map(([k, p]) => [
              k,
              { byPackage: p.byPackage, byFunction: p.byFunction.slice(0, 15) },
            ]),
          ),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nresults written to ${path.relative(ROOT, out)}`);
}

/** Server CPU time per request (µs) in a run: robust to the machine's other load, unlike throughput. */
function cpuPerRequestUs(r) {
  return r.cpu ? (r.cpu.serverSeconds * 1e6) / r.requests : NaN;
}

function fmtMs(ms) {
  return `${ms} ms`.padStart(9);
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (err) => {
    console.error(`\nbench:token FAILED: ${err.stack || err.message}`);
    await cleanup();
    process.exit(1);
  });
