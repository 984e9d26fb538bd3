'use strict';
/**
 * `npm run bench:token`: the token hot path (`GET /v1/connections/:id/token?min_ttl=60`) of vault-api side by
 * side with a bare baseline (bench/bare-server.js: one primary-key SELECT + one AES-GCM open + JSON), in one
 * run, so that the ratio is measured under the same conditions.
 *
 * Load: Debian's `wrk` (C, one thread drives all connections; `apt-get install -y wrk`), far lighter than the
 * servers, for the maximum throughput; bench/fixed-rate.js (an open-loop Node generator, latency counted from
 * each request's due time) for p99 at a fixed rate, since wrk2 is not packaged. Rounds alternate
 * (bare, vault, vault, bare, ...) so drift on a shared machine hits both sides alike.
 *
 * Per side: req/s (median and range of the rounds), p50/p99, and CPU per request of the server, of the load
 * generator and of PostgreSQL (from /proc). A warning is printed when the figures cannot be trusted: the bare
 * server not clearly below the generator's own ceiling, the fixed-rate generator falling behind its schedule,
 * or other processes using the CPU.
 *
 * Exits non-zero only on errors (any non-2xx answer under load included); a missed target prints FAIL.
 *
 * Env knobs:
 *   BENCH_DURATION          seconds of each measured round (default 10)
 *   BENCH_WARMUP            seconds of warm-up per side before the rounds (default 3)
 *   BENCH_ROUNDS            alternating rounds per side, for max throughput and for the fixed rate (default 3)
 *   BENCH_CONNECTIONS       HTTP connections of the load generators (default 64)
 *   BENCH_WRK_THREADS       wrk threads (default 1)
 *   BENCH_RATE              the fixed rate in req/s for both sides (default: half the lower side's median max,
 *                           rounded down to 100)
 *   BENCH_ROWS              connections seeded (default 10000)
 *   BENCH_POOL_SIZE         PostgreSQL pool size of every side (default 10, vault-api's default)
 *   BENCH_LOG_LEVEL         LOG_LEVEL of vault-api (default silent)
 *   BENCH_SKIP_BUILD=1      use dist/ as it is
 *   BENCH_PROFILE=1         after the rounds, one more max-throughput run per side under the CPU profiler; prints
 *                           the top costs and keeps the .cpuprofile files in bench/results/
 *   BENCH_CACHE             which vault sides to run: `cold,warm` (default), `cold` or `warm`
 *   BENCH_BEFORE            a directory holding another checkout of the project with vault-api built (its dist/),
 *                           e.g. `git worktree add /tmp/before <commit> && (cd /tmp/before && npm ci &&
 *                           npx nest build vault-api)`: one more side, `before`, run with its defaults on the
 *                           same database, so a change is measured against the earlier build in the same run
 *
 * The vault runs as two processes on the same database, one per state of its token cache:
 *   cold  the default TOKEN_CACHE_MAX_AGE_MS (1 s), each round started with an empty cache (after a pause longer
 *         than the maximum age); requests pick random rows, so a row is a hit only if it was read within the
 *         last second: the hit ratio printed is what the default bound gives at that rate over BENCH_ROWS rows;
 *   warm  TOKEN_CACHE_MAX_AGE_MS=60000 and every row read once just before each round, so every request of the
 *         round is a hit: the cost of the hot path when connections are read more often than the maximum age.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Redis } = require('ioredis');
const lib = require('./lib/run');
const { REDIS_URL, log, intEnv, round3 } = lib;
const procs = require('./lib/processes');
const { cpuWindow, waitedChildrenCpu } = require('./lib/cpu');
const { promSum, median } = require('./lib/metrics');
const { profilePath, startProfile, stopProfile, summarizeProfile, printProfile } = require('./lib/profile');

// vault-api's default DATABASE_POOL_SIZE; the bare server uses the same (BENCH_POOL_SIZE changes both)
const POOL_SIZE = intEnv('BENCH_POOL_SIZE', 10);

const cfg = {
  duration: intEnv('BENCH_DURATION', 10),
  warmup: intEnv('BENCH_WARMUP', 3),
  rounds: intEnv('BENCH_ROUNDS', 3),
  connections: intEnv('BENCH_CONNECTIONS', 64),
  wrkThreads: intEnv('BENCH_WRK_THREADS', 1),
  rate: process.env.BENCH_RATE ? intEnv('BENCH_RATE', 0) : null,
  rows: intEnv('BENCH_ROWS', 10_000),
  seedConcurrency: 32,
  logLevel: process.env.BENCH_LOG_LEVEL || 'silent',
  profile: process.env.BENCH_PROFILE === '1',
  cache: (process.env.BENCH_CACHE || 'cold,warm').split(',').map((m) => m.trim()),
  before: process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : null,
};
for (const m of cfg.cache)
  if (m !== 'cold' && m !== 'warm') throw new Error('BENCH_CACHE must list cold and/or warm');

/** The two states of the vault's token cache (see above): process settings and what precedes each round. */
const CACHE_SIDES = {
  cold: { maxAgeMs: 1000 },
  warm: { maxAgeMs: 60_000 },
};

/** Issue 10's targets for the hot path: at least the bare server's throughput, and no worse p99. */
const TARGETS = { minThroughputRatio: 1.0, maxP99Ratio: 1.0 };
/** The bare server's req/s must stay under this share of the generator's own ceiling to be believed. */
const CEILING_SHARE = 0.5;

const WRK_WITH_CPU = '"$@"; s=$?; cat /proc/$$/stat >&2; exit $s';

function checkWrk() {
  const res = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (res.error) throw new Error('wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu)');
}

/** One wrk run at full speed against a target; CPU of the server, wrk and PostgreSQL over the run. */
async function wrkRun(target, seconds) {
  const args = [
    `-t${cfg.wrkThreads}`,
    `-c${cfg.connections}`,
    `-d${seconds}s`,
    '-s',
    path.join(__dirname, 'wrk-token.lua'),
    target.base,
    '--',
    target.idsFile,
    target.apiKey || '',
  ];
  // Through a shell that prints its stat once wrk has exited: its cutime/cstime are wrk's CPU seconds.
  const proc = procs.startChild('wrk', ['-c', WRK_WITH_CPU, 'sh', 'wrk', ...args], {}, 'sh');
  const window = cpuWindow({ server: target.proc.pid, generator: proc.pid });
  const code = await proc.exited;
  const cpu = window.stop({ generator: waitedChildrenCpu(proc.out) });
  if (code !== 0) throw procs.childFailure(proc);
  if (!procs.isRunning(target.proc)) throw procs.childFailure(target.proc);
  const line = proc.stdout.trim().split('\n').pop();
  const r = JSON.parse(line);
  const bad = r.errors.connect + r.errors.read + r.errors.write + r.errors.status + r.errors.timeout;
  if (bad > 0)
    throw new Error(
      `${target.name}: errors under load ${JSON.stringify(r.errors)}: every answer must be 200`,
    );
  return {
    rps: r.requests / (r.micros / 1e6),
    requests: r.requests,
    latencyMs: r.latencyMs,
    cpu: perRequest(cpu, r.requests),
  };
}

/** One open-loop run at `rate` req/s (bench/fixed-rate.js). */
async function fixedRateRun(target, rate) {
  const opts = {
    url: target.base,
    idsFile: target.idsFile,
    rate,
    duration: cfg.duration,
    connections: cfg.connections,
    headers: target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {},
  };
  const proc = procs.startChild(
    'fixed-rate',
    [path.join(__dirname, 'fixed-rate.js'), JSON.stringify(opts)],
    {},
  );
  const window = cpuWindow({ server: target.proc.pid, generator: proc.pid });
  const code = await proc.exited;
  if (code !== 0) throw procs.childFailure(proc);
  const r = JSON.parse(proc.stdout.trim().split('\n').pop());
  const cpu = window.stop({ generator: r.cpuSeconds });
  if (r.non2xx + r.errors > 0)
    throw new Error(`${target.name} at ${rate}/s: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { ...r, cpu: perRequest(cpu, r.requests) };
}

/** CPU µs per request of each process measured, PostgreSQL and the rest, plus shares of one core. */
function perRequest(cpu, requests) {
  if (!cpu) return null;
  const us = (s) => (s === null ? null : Math.round((s * 1e6) / requests));
  return {
    serverUs: us(cpu.seconds.server),
    generatorUs: us(cpu.seconds.generator),
    postgresUs: us(cpu.postgres),
    otherUs: us(cpu.other),
    /** Share of one core used by the generator over the run. */
    generatorCores: round3(cpu.seconds.generator / cpu.wall),
    serverCores: round3(cpu.seconds.server / cpu.wall),
    machineBusyShare: round3(cpu.machineBusyShare),
    otherCores: round3(cpu.other / cpu.wall),
  };
}

async function readVaultMetrics(base) {
  const res = await fetch(`${base}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const text = await res.text();
  const kms = promSum(text, 'vault_kms_requests_total', 'operation', { process: 'vault-api' });
  const cache = promSum(text, 'vault_data_key_cache_total', 'result', { process: 'vault-api' });
  const tokenCache = promSum(text, 'vault_token_cache_total', 'result', { process: 'vault-api' });
  // prom-client's default GC histogram (by kind: minor, major, incremental, weakcb).
  const gcSeconds = promSum(text, 'nodejs_gc_duration_seconds_sum', 'kind', { process: 'vault-api' });
  const gcCount = promSum(text, 'nodejs_gc_duration_seconds_count', 'kind', { process: 'vault-api' });
  const gcOver = (le) =>
    promSum(text, 'nodejs_gc_duration_seconds_bucket', 'le', { process: 'vault-api' })[le] || 0;
  return {
    gcMs: 1000 * Object.values(gcSeconds).reduce((a, b) => a + b, 0),
    gcMajor: gcCount.major || 0,
    gcAll: Object.values(gcCount).reduce((a, b) => a + b, 0),
    // collections longer than 10 ms (the histogram's 0.01 s bucket)
    gcUnder10ms: gcOver('0.01'),
    kms,
    kmsTotal: Object.values(kms).reduce((a, b) => a + b, 0),
    cacheHit: cache.hit || 0,
    cacheMiss: cache.miss || 0,
    tokenHit: tokenCache.hit || 0,
    tokenMiss: tokenCache.miss || 0,
    tokenBypass: tokenCache.bypass || 0,
  };
}

/** A vault side's run: its KMS calls, data-key and token cache results, read from /metrics around it. */
async function measured(target, run) {
  if (!target.vault) return run();
  const before = await readVaultMetrics(target.base);
  const r = await run();
  const after = await readVaultMetrics(target.base);
  const d = (k) => after[k] - before[k];
  const lookups = d('tokenHit') + d('tokenMiss') + d('tokenBypass');
  return {
    ...r,
    kmsCalls: d('kmsTotal'),
    dataKeyCache: { hit: d('cacheHit'), miss: d('cacheMiss') },
    tokenCache: { hit: d('tokenHit'), miss: d('tokenMiss'), bypass: d('tokenBypass') },
    tokenCacheHitRatio: lookups > 0 ? round3(d('tokenHit') / lookups) : null,
    gc: {
      ms: round3(d('gcMs')),
      collections: d('gcAll'),
      major: d('gcMajor'),
      over10ms: d('gcAll') - d('gcUnder10ms'),
    },
  };
}

/**
 * Puts a vault side in its cache state before a round. Warm: every cached row dropped first (the vault's own
 * invalidation message for all connections, as a write would publish it), then every row read once, so each
 * entry has its whole maximum age ahead of it (a row read earlier, by the warm-up, would expire during the
 * round: a read that hits does not renew its age). Cold: waits until the cache is empty.
 */
async function prepareCache(target, ids) {
  if (target.name === 'warm') {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    try {
      await redis.publish(`${target.prefix}:connections:changed`, '*');
    } finally {
      redis.disconnect();
    }
    await lib.sleep(200);
    await procs.pool(ids.length, cfg.seedConcurrency, (i) =>
      procs.apiCall(
        target.base,
        target.apiKey,
        'GET',
        `/v1/connections/${ids[i]}/token?min_ttl=60`,
        null,
        200,
      ),
    );
  }
  if (target.name === 'cold' || target.name === 'before') await lib.sleep(CACHE_SIDES.cold.maxAgeMs + 200);
}

async function seed(apiBase, apiKey) {
  const integration = `bench-${lib.run.id}`;
  await procs.apiCall(
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
  const samples = new Map(); // a few ids -> access token, to check the answers before the load
  const started = Date.now();
  await procs.pool(cfg.rows, cfg.seedConcurrency, async (i) => {
    const accessToken = `at_${crypto.randomBytes(48).toString('base64url')}`;
    const created = await procs.apiCall(
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
    if (i < 5) samples.set(created.id, accessToken);
  });
  const seconds = (Date.now() - started) / 1000;
  log(`seeded ${cfg.rows} connections in ${seconds.toFixed(1)} s (${(cfg.rows / seconds).toFixed(0)}/s)`);
  return { ids, samples, seconds };
}

/** Both servers answer the same JSON, with the seeded token. */
async function checkAnswers(vault, bare, samples) {
  for (const [id, accessToken] of samples) {
    const url = `/v1/connections/${id}/token?min_ttl=60`;
    const fromVault = await procs.apiCall(vault.base, vault.apiKey, 'GET', url, null, 200);
    const fromBare = await procs.apiCall(bare.base, null, 'GET', url, null, 200);
    if (fromVault.access_token !== accessToken) throw new Error(`vault answered a wrong token for ${id}`);
    if (JSON.stringify(fromVault) !== JSON.stringify(fromBare))
      throw new Error(
        `bare and vault answers differ for ${id}:\n${JSON.stringify(fromVault)}\n${JSON.stringify(fromBare)}`,
      );
  }
  log('answers checked: vault and bare return the same JSON, with the seeded tokens');
}

const fmtRun = (r) =>
  `${r.rps.toFixed(0)} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms` +
  (r.cpu
    ? `, CPU/req server ${r.cpu.serverUs} µs, generator ${r.cpu.generatorUs} µs, postgres ${r.cpu.postgresUs} µs`
    : '');

/** Median and range of a figure over the rounds. */
function spread(runs, pick) {
  const values = runs.map(pick).filter((v) => v !== null && v !== undefined);
  if (values.length === 0) return { median: null, min: null, max: null };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

async function main() {
  checkWrk();
  log(
    `token benchmark: ${cfg.rows} rows, ${cfg.rounds} alternating rounds of ${cfg.duration} s per side, ` +
      `${cfg.connections} connections, wrk ${cfg.wrkThreads} thread(s), vault token cache ${cfg.cache.join(' and ')}, ` +
      `node ${process.version}, ${os.cpus().length} cores`,
  );
  procs.ensureBuild('vault-api'); // the bare server reuses the vault's compiled crypto

  const db = await lib.createDatabase('token');
  const prefix = lib.redisPrefix('token');
  const masterKey = crypto.randomBytes(32).toString('base64');
  const apiKey = procs.generateApiKey();
  log(`database ${db.name}, Redis prefix ${prefix}`);
  const profileFiles = { bare: profilePath('token-bare') };

  // One vault-api process per state of the token cache (and the earlier build's, if asked), on the same
  // database and Redis prefix.
  const vaultEnv = {
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    KMS_DRIVER: 'local',
    LOCAL_KMS_KEY: masterKey,
    BOOTSTRAP_API_KEY: apiKey,
  };
  const vaults = [];
  for (const name of cfg.cache) {
    profileFiles[name] = profilePath(`token-vault-api-${name}`);
    const proc = await procs.startVault(
      'api',
      {
        ...vaultEnv,
        TOKEN_CACHE_MAX_AGE_MS: String(CACHE_SIDES[name].maxAgeMs),
        BENCH_PROFILE_FILE: profileFiles[name],
      },
      { fromDist: true, profile: cfg.profile, logLevel: cfg.logLevel },
    );
    log(`vault-api (${name} cache) ready on ${proc.url} in ${proc.startSeconds.toFixed(1)} s`);
    vaults.push({ name, proc, base: proc.url, apiKey, prefix, vault: true });
  }
  if (cfg.before) {
    const commit = spawnSync('git', ['-C', cfg.before, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
    const proc = await procs.startVault('api', vaultEnv, { root: cfg.before, logLevel: cfg.logLevel });
    const label = (commit.stdout || '').trim() || path.basename(cfg.before);
    log(`vault-api of the earlier build ${label} (${cfg.before}) ready on ${proc.url}`);
    vaults.push({ name: 'before', label, proc, base: proc.url, apiKey, vault: true, reference: true });
  }
  const seeded = await seed(vaults[0].base, apiKey);
  const idsFile = path.join(lib.tmpDir(), 'ids.txt');
  fs.writeFileSync(idsFile, seeded.ids.join('\n') + '\n');
  for (const v of vaults) v.idsFile = idsFile;

  const barePort = await procs.freePort();
  const bareProc = procs.startChild(
    'bare',
    [
      ...(cfg.profile ? ['-r', path.join(__dirname, 'profile-hook.js')] : []),
      path.join(__dirname, 'bare-server.js'),
    ],
    {
      PORT: String(barePort),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      LOCAL_KMS_KEY: masterKey,
      BENCH_PROFILE_FILE: profileFiles.bare,
    },
  );
  const bare = { name: 'bare', proc: bareProc, base: `http://127.0.0.1:${barePort}`, idsFile, apiKey: null };
  await procs.waitReady(bareProc, `${bare.base}/health`);
  for (const v of vaults) await checkAnswers(v, bare, seeded.samples);

  const sides = [bare, ...vaults];
  for (const t of sides) {
    log(`${t.name}: warm-up ${cfg.warmup} s`);
    await wrkRun(t, cfg.warmup);
  }

  const runs = Object.fromEntries(sides.map((t) => [t.name, { max: [], fixed: [] }]));
  // Each round starts with a different side, so drift on a shared machine hits every side alike.
  const order = (round) => sides.map((_, k) => sides[(k + round) % sides.length]);
  const oneRun = async (t, kind, go) => {
    await prepareCache(t, seeded.ids);
    const r = await measured(t, go);
    runs[t.name][kind].push(r);
    return r;
  };
  const cacheNote = (r) =>
    r.tokenCache && r.tokenCacheHitRatio !== null
      ? `, token cache hits ${Math.round(100 * r.tokenCacheHitRatio)} %, GC ${Math.round(r.gc.ms)} ms ` +
        `(${r.gc.collections} collections, ${r.gc.major} major, ${r.gc.over10ms} over 10 ms)`
      : '';
  for (let round = 0; round < cfg.rounds; round++) {
    for (const t of order(round)) {
      const r = await oneRun(t, 'max', () => wrkRun(t, cfg.duration));
      log(`round ${round + 1} max   ${t.name.padEnd(5)}: ${fmtRun(r)}${cacheNote(r)}`);
    }
  }
  const maxOf = (name) => spread(runs[name].max, (r) => r.rps).median;
  const rate =
    cfg.rate ?? Math.max(100, Math.floor((0.5 * Math.min(...sides.map((t) => maxOf(t.name)))) / 100) * 100);
  for (let round = 0; round < cfg.rounds; round++) {
    for (const t of order(round)) {
      const r = await oneRun(t, 'fixed', () => fixedRateRun(t, rate));
      log(
        `round ${round + 1} fixed ${t.name.padEnd(5)}: ${fmtRun(r)}, sends late by p99 ${r.sendLagMsP99} ms${cacheNote(r)}`,
      );
    }
  }

  let profiles = null;
  if (cfg.profile) {
    profiles = {};
    for (const t of sides) {
      await prepareCache(t, seeded.ids);
      startProfile(t.proc);
      await wrkRun(t, cfg.duration);
      await stopProfile(t.proc, profileFiles[t.name]);
      profiles[t.name] = summarizeProfile(profileFiles[t.name]);
    }
  }

  // ---- Summary
  const side = (name) => {
    const { max, fixed } = runs[name];
    const all = [...max, ...fixed];
    const sum = (pick) => all.reduce((a, r) => a + (pick(r) ?? 0), 0);
    const hits = sum((r) => r.tokenCache?.hit);
    const lookups = hits + sum((r) => r.tokenCache?.miss) + sum((r) => r.tokenCache?.bypass);
    return {
      rps: spread(max, (r) => r.rps),
      p50: spread(max, (r) => r.latencyMs.p50),
      p99: spread(max, (r) => r.latencyMs.p99),
      serverUs: spread(max, (r) => r.cpu?.serverUs),
      generatorUs: spread(max, (r) => r.cpu?.generatorUs),
      postgresUs: spread(max, (r) => r.cpu?.postgresUs),
      generatorCores: spread(max, (r) => r.cpu?.generatorCores),
      otherCores: spread(all, (r) => r.cpu?.otherCores),
      kmsCalls: sum((r) => r.kmsCalls),
      tokenCacheHitRatio: lookups > 0 ? round3(hits / lookups) : null,
      fixed: {
        rate,
        rps: spread(fixed, (r) => r.rps),
        p50: spread(fixed, (r) => r.latencyMs.p50),
        p99: spread(fixed, (r) => r.latencyMs.p99),
        serverUs: spread(fixed, (r) => r.cpu?.serverUs),
        generatorUs: spread(fixed, (r) => r.cpu?.generatorUs),
        generatorCores: spread(fixed, (r) => r.cpu?.generatorCores),
        sendLagMsP99: spread(fixed, (r) => r.sendLagMsP99),
      },
    };
  };
  const summary = Object.fromEntries(sides.map((t) => [t.name, side(t.name)]));
  const b = summary.bare;
  const ratios = Object.fromEntries(
    vaults.map((v) => [
      v.name,
      {
        rps: summary[v.name].rps.median / b.rps.median,
        p99: summary[v.name].fixed.p99.median / b.fixed.p99.median,
      },
    ]),
  );

  const warnings = [];
  // The generator's ceiling: the rate at which its threads would be saturated, from its CPU per request.
  const ceiling = (cfg.wrkThreads * 1e6) / b.generatorUs.median;
  if (!(b.rps.median < CEILING_SHARE * ceiling)) {
    warnings.push(
      `the bare server (${b.rps.median.toFixed(0)} req/s) is not clearly below wrk's own ceiling ` +
        `(~${ceiling.toFixed(0)} req/s at ${b.generatorUs.median} µs/request on ${cfg.wrkThreads} thread(s)): ` +
        'the ratio may be compressed by the load generator',
    );
  }
  if (sides.some((t) => summary[t.name].generatorCores.max > 0.9 * cfg.wrkThreads))
    warnings.push('wrk used its threads fully in a round: the load generator was saturated');
  for (const t of sides) {
    const s = summary[t.name];
    if (s.fixed.rps.min < 0.97 * rate || s.fixed.sendLagMsP99.max > 5)
      warnings.push(
        `${t.name}: the fixed-rate generator fell behind its schedule (min ${s.fixed.rps.min.toFixed(0)}/${rate} req/s, ` +
          `sends late by up to ${s.fixed.sendLagMsP99.max} ms at p99): its p99 is not the server's alone`,
      );
    if (s.fixed.generatorCores.max > 0.7)
      warnings.push(
        `${t.name}: the fixed-rate generator used ${s.fixed.generatorCores.max} of a core: lower BENCH_RATE`,
      );
    if (s.otherCores.max > 0.2)
      warnings.push(
        `${t.name}: other processes used up to ${s.otherCores.max} of a core during the rounds: figures are noisy`,
      );
  }

  const checks = vaults
    .filter((v) => !v.reference)
    .flatMap((v) => {
      const s = summary[v.name];
      const r = ratios[v.name];
      return [
        {
          name: `vault (${v.name} cache) req/s >= ${TARGETS.minThroughputRatio}× bare (medians)`,
          pass: r.rps >= TARGETS.minThroughputRatio,
          value: `${r.rps.toFixed(2)}×`,
        },
        {
          name: `vault (${v.name} cache) p99 at ${rate} req/s <= ${TARGETS.maxP99Ratio}× bare (medians)`,
          pass: r.p99 <= TARGETS.maxP99Ratio,
          value: `${s.fixed.p99.median} ms vs ${b.fixed.p99.median} ms (${r.p99.toFixed(2)}×)`,
        },
        {
          name: `0 KMS calls during the load (${v.name} cache)`,
          pass: s.kmsCalls === 0,
          value: `${s.kmsCalls} KMS calls`,
        },
      ];
    });

  const num = (x) => (x === null ? '-' : Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 100) / 100);
  const fmt = (s) => (s.median === null ? '-' : `${num(s.median)} (${num(s.min)}–${num(s.max)})`);
  const pair = (a, c) => `${num(a.median)} / ${num(c.median)}`;
  const col = (f) => sides.map((t) => f(summary[t.name]));
  const rows = [
    [
      '',
      ...sides.map((t) =>
        t.reference ? `earlier build ${t.label}` : t.vault ? `vault, ${t.name} cache` : 'bare',
      ),
    ],
    ['max req/s, median (range)', ...col((s) => fmt(s.rps))],
    ['  p50 / p99 ms (medians)', ...col((s) => pair(s.p50, s.p99))],
    ['  server CPU µs/request', ...col((s) => fmt(s.serverUs))],
    ['  wrk CPU µs/request', ...col((s) => fmt(s.generatorUs))],
    ['  postgres CPU µs/request', ...col((s) => fmt(s.postgresUs))],
    [`fixed ${rate} req/s: p50 / p99 ms`, ...col((s) => pair(s.fixed.p50, s.fixed.p99))],
    ['  p99 ms, median (range)', ...col((s) => fmt(s.fixed.p99))],
    ['  server CPU µs/request', ...col((s) => fmt(s.fixed.serverUs))],
    ['  generator CPU µs/request', ...col((s) => fmt(s.fixed.generatorUs))],
    [
      'token cache hit ratio (all rounds)',
      ...col((s) => (s.tokenCacheHitRatio === null ? '-' : `${Math.round(100 * s.tokenCacheHitRatio)} %`)),
    ],
  ];
  const width = [34, ...sides.map(() => 24)];
  const rule = '─'.repeat(width.reduce((a, c) => a + c + 3, 0));
  console.log(`\n${rule}`);
  console.log(
    `Token hot path, GET /v1/connections/:id/token?min_ttl=60: ${cfg.rows} rows, ${cfg.connections} connections, ` +
      `${cfg.rounds} alternating rounds of ${cfg.duration} s per side`,
  );
  console.log(rule);
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(width[i])).join(' │ '));
  console.log(rule);
  for (const v of vaults)
    console.log(
      `${v.reference ? `earlier build ${v.label}` : `vault (${v.name} cache)`} / bare: ${ratios[v.name].rps.toFixed(2)}× req/s, ` +
        `${ratios[v.name].p99.toFixed(2)}× p99 at the fixed rate; ${summary[v.name].kmsCalls} KMS calls during its load`,
    );
  for (const w of warnings) console.log(`WARNING: ${w}`);
  for (const c of checks) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
  console.log(rule);
  if (profiles) for (const [name, p] of Object.entries(profiles)) printProfile(`${name} (max throughput)`, p);

  lib.writeResults('token', {
    date: new Date().toISOString(),
    config: {
      ...cfg,
      cacheSides: Object.fromEntries(cfg.cache.map((n) => [n, CACHE_SIDES[n]])),
      node: process.version,
      cores: os.cpus().length,
      poolSize: POOL_SIZE,
      generator: 'wrk + bench/fixed-rate.js',
    },
    ...summary,
    rounds: runs,
    ratios: Object.fromEntries(
      Object.entries(ratios).map(([n, r]) => [n, { rps: round3(r.rps), p99: round3(r.p99) }]),
    ),
    seedSeconds: seeded.seconds,
    warnings,
    checks,
    profiles,
  });
}

lib.main('bench:token', main);
