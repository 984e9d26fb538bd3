'use strict';
/**
 * `npm run bench:scale`: the vault with a million connections on one node (issue 10 §4).
 *
 * Steps: fresh database -> `seedScale` (bench/seed-scale.js: BENCH_SCALE_ROWS sealed connections by COPY, due
 * times spread over 24 h) -> with the rows in place, measured one after the other:
 *   1. the sweep's claim query (RefreshScheduleRepository.claimDue) as the worker runs it at start-up:
 *      SweepService's rounds (SWEEP_BATCH_SIZE rows each, the default 30 s lookahead, each round starting at
 *      the due time where the last ended) over the backlog due at once, every claim statement timed on its
 *      own, p50/p99 over BENCH_SCALE_SAMPLES claims; after each sweep its leases are released (timed apart,
 *      not part of the claim) so the next sweep meets the same backlog; and the plan of the first round;
 *   2. the `vault_connections` gauge refresh (ConnectionsGauge.update: compaction + counts) p50/p99;
 *   3. vault-api cold start (spawn -> /health/ready, from dist/);
 *   4. the token hot path with wrk on random seeded ids (every 10th row): cold, right after start with the
 *      default TOKEN_CACHE_MAX_AGE_MS (1 s: over 1 M rows nearly every read misses); then warm, a second
 *      vault-api with TOKEN_CACHE_MAX_AGE_MS=60000 over the first BENCH_SCALE_WARM_IDS of those ids, its cache
 *      first filled by reading each of them once (few enough to fill well within the 60 s bound); each run
 *      reports the share of reads its token cache answered;
 *   5. GET /v1/connections (first page; a tenant's first page; 20 pages deep) and GET /v1/stats latency;
 *   6. vault-worker cold start, then Redis memory under the run's prefix while the worker runs
 *      BENCH_SCALE_WORKER_SECONDS against an instant token endpoint: keys and bytes, per connection due
 *      within the lookahead and per scheduled connection (only near-due work may live in Redis).
 * PASS/FAIL against the targets, JSON in bench/results/. The database is dropped at the end unless
 * BENCH_SCALE_KEEP=1.
 *
 * Run through the npm script (`node -r ./test/utils/register-ts.js bench/scale.js`): it calls the vault's
 * repositories and gauge from the TypeScript sources.
 *
 * Env knobs: BENCH_SCALE_ROWS (1000000), BENCH_SCALE_SAMPLES (200), BENCH_DURATION (10 s a wrk run),
 * BENCH_CONNECTIONS (64), BENCH_SCALE_WORKER_SECONDS (20), SWEEP_BATCH_SIZE (the vault's default, 500),
 * BENCH_SCALE_WARM_IDS (20000), BENCH_SKIP_BUILD=1, BENCH_SCALE_KEEP=1.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Redis } = require('ioredis');
const { ConnectionsRepository, Database, RefreshScheduleRepository } = require('@vault/persistence');
const { loadConfig } = require('../libs/core/src/config/vault-config');
const { ConnectionsGauge } = require('../libs/core/src/metrics/connections-gauge');
const { MetricsService } = require('../libs/core/src/metrics/metrics.service');
const { SweepService } = require('../libs/core/src/refresh/sweep.service');
const lib = require('./lib/run');
const { REDIS_URL, log, intEnv, sleep, round3 } = lib;
const procs = require('./lib/processes');
const { cpuWindow } = require('./lib/cpu');
const { percentile, promSum, timeSamples } = require('./lib/metrics');
const { seedScale } = require('./seed-scale');

const cfg = {
  rows: intEnv('BENCH_SCALE_ROWS', 1_000_000),
  samples: intEnv('BENCH_SCALE_SAMPLES', 200),
  duration: intEnv('BENCH_DURATION', 10),
  connections: intEnv('BENCH_CONNECTIONS', 64),
  workerSeconds: intEnv('BENCH_SCALE_WORKER_SECONDS', 20),
  warmIds: intEnv('BENCH_SCALE_WARM_IDS', 20_000),
  batch: intEnv('SWEEP_BATCH_SIZE', loadConfig({ NODE_ENV: 'test' }).SWEEP_BATCH_SIZE),
  lookaheadSeconds: 30,
  keep: process.env.BENCH_SCALE_KEEP === '1',
};

const TARGETS = { claimP99Ms: 50, statsP99Ms: 200, coldStartSeconds: 3 };
/** The warm hot-path run's token cache bound (the largest the vault accepts). */
const WARM_CACHE_MAX_AGE_MS = 60_000;

const summary = (ms) => {
  const r = (v) => Math.round(v * 100) / 100;
  return { n: ms.length, p50: r(percentile(ms, 50)), p99: r(percentile(ms, 99)), max: r(Math.max(...ms)) };
};
const since = (t) => Number(process.hrtime.bigint() - t) / 1e6;

/**
 * The claim statements as the worker's sweep makes them over the backlog due at start-up: SweepService itself
 * (the vault's defaults, SWEEP_BATCH_SIZE), its claims timed one by one, its jobs dropped. After each sweep
 * its leases are released so the next sweep meets the same backlog; the release is timed apart.
 */
async function measureClaims(db) {
  const repo = new RefreshScheduleRepository(db);
  const claimMs = [];
  let leased = [];
  const timed = {
    claimDue: async (...args) => {
      const t = process.hrtime.bigint();
      const rows = await repo.claimDue(...args);
      claimMs.push(since(t));
      leased.push(...rows.map((r) => r.id));
      return rows;
    },
    releaseClaim: (ids) => repo.releaseClaim(ids),
  };
  const config = loadConfig({ NODE_ENV: 'test', SWEEP_BATCH_SIZE: String(cfg.batch) });
  const sweeper = new SweepService(timed, { addBulk: () => Promise.resolve() }, config);
  const releaseMs = [];
  let claimed = 0;
  let sweeps = 0;
  while (claimMs.length < cfg.samples) {
    leased = [];
    await sweeper.sweep();
    sweeps++;
    claimed += leased.length;
    const t = process.hrtime.bigint();
    await repo.releaseClaim(leased);
    releaseMs.push(since(t));
  }
  return {
    ...summary(claimMs),
    meanClaimed: Math.round(claimed / claimMs.length),
    sweeps,
    roundsPerSweep: round3(claimMs.length / sweeps),
    release: summary(releaseMs),
  };
}

async function claimPlan(db) {
  const { CLAIM_DUE_SQL } = require('@vault/persistence');
  const rows = await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) ${CLAIM_DUE_SQL}`, [
    new Date(Date.now() + cfg.lookaheadSeconds * 1000),
    new Date(Date.now() + 60_000),
    cfg.batch,
    null,
  ]);
  await db.query(
    `UPDATE connections SET refresh_claimed_until = NULL WHERE refresh_claimed_until IS NOT NULL`,
  );
  return rows.map((r) => r['QUERY PLAN']);
}

async function httpLatency(base, apiKey, paths, n) {
  let i = 0;
  return timeSamples(n, async () => {
    const p = paths[i++ % paths.length];
    const res = await fetch(base + p, { headers: { authorization: `Bearer ${apiKey}` } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${p}: ${res.status} ${text.slice(0, 300)}`);
  });
}

/** Follows the list's cursor `pages` pages deep and times each page. */
async function deepPages(base, apiKey, pages) {
  let cursor = null;
  const ms = [];
  for (let p = 0; p < pages; p++) {
    const t = process.hrtime.bigint();
    const res = await fetch(
      `${base}/v1/connections?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      {
        headers: { authorization: `Bearer ${apiKey}` },
      },
    );
    const body = await res.json();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (res.status !== 200) throw new Error(`list page ${p}: ${res.status} ${JSON.stringify(body)}`);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return { pages: ms.length, maxMs: round3(Math.max(...ms)), lastMs: round3(ms[ms.length - 1]) };
}

/** Reads of the vault-api's token cache by result (hit, miss, bypass), from its /metrics. */
async function tokenCacheReads(base) {
  const res = await fetch(`${base}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  return promSum(await res.text(), 'vault_token_cache_total', 'result', { process: 'vault-api' });
}

/** A wrk run of the token hot path, with the share of its reads the token cache answered. */
async function hotPathRun(api, apiKey, idsFile) {
  const before = await tokenCacheReads(api.url);
  const r = await wrkRun(api.url, apiKey, idsFile, api.pid);
  const after = await tokenCacheReads(api.url);
  const d = (k) => (after[k] || 0) - (before[k] || 0);
  const reads = d('hit') + d('miss') + d('bypass');
  return { ...r, tokenCacheHitRatio: reads > 0 ? round3(d('hit') / reads) : null };
}

async function wrkRun(base, apiKey, idsFile, pid) {
  const args = [
    `-t1`,
    `-c${cfg.connections}`,
    `-d${cfg.duration}s`,
    '-s',
    path.join(__dirname, 'wrk-token.lua'),
    base,
    '--',
    idsFile,
    apiKey,
  ];
  const proc = procs.startChild('wrk', args, {}, 'wrk');
  const window = cpuWindow({ server: pid });
  if ((await proc.exited) !== 0) throw procs.childFailure(proc);
  const cpu = window.stop();
  const r = JSON.parse(proc.stdout.trim().split('\n').pop());
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  return {
    errorsByKind: r.errors,
    rps: Math.round(r.requests / (r.micros / 1e6)),
    p50Ms: r.latencyMs.p50,
    p99Ms: r.latencyMs.p99,
    errors,
    serverUsPerRequest: cpu ? Math.round((cpu.seconds.server * 1e6) / r.requests) : null,
  };
}

/** Keys and bytes (MEMORY USAGE) under the run's Redis prefix. */
async function redisUsage(prefix) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    let keys = 0;
    let bytes = 0;
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of batch) {
        keys++;
        bytes += Number((await redis.memory('USAGE', k, 'SAMPLES', '0')) || 0);
      }
    } while (cursor !== '0');
    return { keys, bytes };
  } finally {
    redis.disconnect();
  }
}

async function main() {
  procs.ensureBuild('vault-api');
  procs.ensureBuild('vault-worker');
  const db = await lib.createDatabase('scale');
  const prefix = lib.redisPrefix('scale');
  if (cfg.keep) lib.run.databases = lib.run.databases.filter((d) => d !== db.name);
  const masterKey = crypto.randomBytes(32).toString('base64');
  const apiKey = procs.generateApiKey();
  const tokenServer = await procs.startTokenServer();

  log(`seeding ${cfg.rows} connections into ${db.name} (COPY)`);
  const seeded = await seedScale(db.url, { masterKey, rows: cfg.rows, tokenUrl: `${tokenServer.url}/token` });
  log(`seeded in ${seeded.seconds.toFixed(1)} s (${Math.round(cfg.rows / seeded.seconds)}/s)`);
  const idsFile = path.join(lib.tmpDir(), 'ids.txt');
  fs.writeFileSync(idsFile, seeded.sample.join('\n') + '\n');
  const warmIds = seeded.sample.slice(0, cfg.warmIds);
  const warmIdsFile = path.join(lib.tmpDir(), 'warm-ids.txt');
  fs.writeFileSync(warmIdsFile, warmIds.join('\n') + '\n');

  const database = Database.connect({ url: db.url, poolSize: 2 });
  const figures = {
    date: new Date().toISOString(),
    config: { ...cfg, node: process.version, cores: os.cpus().length },
  };
  try {
    const [{ scheduled, dueSoon }] = await database.query(
      `SELECT count(*) FILTER (WHERE next_refresh_at IS NOT NULL AND status IN ('active', 'refresh_failing'))::int AS scheduled,
              count(*) FILTER (WHERE next_refresh_at <= now() + $1 * interval '1 second'
                               AND status IN ('active', 'refresh_failing'))::int AS "dueSoon"
       FROM connections`,
      [cfg.lookaheadSeconds],
    );
    figures.seed = {
      rows: cfg.rows,
      seconds: round3(seeded.seconds),
      rowsPerSecond: Math.round(cfg.rows / seeded.seconds),
      scheduled,
      dueSoon,
    };
    figures.claim = await measureClaims(database);
    figures.claimPlan = await claimPlan(database);
    log(
      `claim: p50 ${figures.claim.p50} ms, p99 ${figures.claim.p99} ms (${figures.claim.meanClaimed} rows a claim, ` +
        `${figures.claim.roundsPerSweep} rounds a sweep)`,
    );
    const gauge = new ConnectionsGauge(
      new ConnectionsRepository(database, { connectionsChanged: () => undefined }),
      new MetricsService('bench-scale'),
    );
    figures.gauge = await timeSamples(20, () => gauge.update());
    log(`gauge refresh: p50 ${figures.gauge.p50} ms, p99 ${figures.gauge.p99} ms`);
  } finally {
    await database.close();
  }

  const baseEnv = {
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    KMS_DRIVER: 'local',
    LOCAL_KMS_KEY: masterKey,
    BOOTSTRAP_API_KEY: apiKey,
  };
  const api = await procs.startVault('api', baseEnv, { fromDist: true, logLevel: 'warn' });
  figures.apiColdStartSeconds = round3(api.startSeconds);
  log(`vault-api cold start ${api.startSeconds.toFixed(2)} s`);
  figures.hotPath = { cold: { ...(await hotPathRun(api, apiKey, idsFile)), ids: seeded.sample.length } };
  log(`hot path cold ${JSON.stringify(figures.hotPath.cold)}`);

  const n = 50;
  figures.http = {
    listFirstPage: await httpLatency(api.url, apiKey, ['/v1/connections?limit=50'], n),
    listTenantPage: await httpLatency(
      api.url,
      apiKey,
      Array.from({ length: 10 }, (_, i) => `/v1/connections?limit=50&tenant_id=tenant-${i * 7}`),
      n,
    ),
    listDeep: await deepPages(api.url, apiKey, 20),
    stats: await httpLatency(api.url, apiKey, ['/v1/stats'], n),
  };
  log(`HTTP: ${JSON.stringify(figures.http)}`);
  await procs.stopChild(api);

  // Warm: a vault-api whose cache keeps every row of the run for its whole length, each read once before it.
  const warmApi = await procs.startVault(
    'api',
    {
      ...baseEnv,
      TOKEN_CACHE_MAX_AGE_MS: String(WARM_CACHE_MAX_AGE_MS),
      TOKEN_CACHE_MAX_ENTRIES: String(Math.max(100_000, warmIds.length)),
    },
    { fromDist: true, logLevel: 'warn' },
  );
  const fillStarted = Date.now();
  await procs.pool(warmIds.length, cfg.connections, (i) =>
    procs.apiCall(warmApi.url, apiKey, 'GET', `/v1/connections/${warmIds[i]}/token?min_ttl=60`, null, 200),
  );
  const fillSeconds = (Date.now() - fillStarted) / 1000;
  if (fillSeconds + cfg.duration > WARM_CACHE_MAX_AGE_MS / 1000)
    log(
      `WARNING: filling the cache took ${fillSeconds.toFixed(1)} s: the first entries expire during the run`,
    );
  figures.hotPath.warm = {
    ...(await hotPathRun(warmApi, apiKey, warmIdsFile)),
    ids: warmIds.length,
    cacheFillSeconds: round3(fillSeconds),
  };
  log(`hot path warm ${JSON.stringify(figures.hotPath.warm)}`);
  await procs.stopChild(warmApi);

  const redisBefore = await redisUsage(prefix);
  const worker = await procs.startVault('worker', baseEnv, { fromDist: true, logLevel: 'warn' });
  figures.workerColdStartSeconds = round3(worker.startSeconds);
  let peak = { keys: 0, bytes: 0 };
  const until = Date.now() + cfg.workerSeconds * 1000;
  while (Date.now() < until) {
    const u = await redisUsage(prefix);
    if (u.bytes > peak.bytes) peak = u;
    await sleep(1000);
  }
  const tokenStats = await (await fetch(`${tokenServer.url}/stats`)).json();
  await procs.stopChild(worker);
  figures.redis = {
    before: redisBefore,
    peak,
    refreshedMeanwhile: tokenStats.calls,
    bytesPerScheduledConnection: round3(peak.bytes / figures.seed.scheduled),
    bytesPerDueSoonConnection: round3(peak.bytes / Math.max(1, figures.seed.dueSoon + tokenStats.calls)),
  };
  log(`Redis: ${JSON.stringify(figures.redis)}`);

  const checks = [
    {
      name: `sweep claim p99 <= ${TARGETS.claimP99Ms} ms`,
      pass: figures.claim.p99 <= TARGETS.claimP99Ms,
      value: `${figures.claim.p99} ms`,
    },
    {
      name: 'claim plan uses connections_due_idx, no seq scan',
      pass:
        figures.claimPlan.some((l) => l.includes('connections_due_idx')) &&
        !figures.claimPlan.some((l) => /Seq Scan on connections/.test(l)),
      value: figures.claimPlan.find((l) => /Scan/.test(l))?.trim(),
    },
    {
      name: `GET /v1/stats p99 <= ${TARGETS.statsP99Ms} ms`,
      pass: figures.http.stats.p99 <= TARGETS.statsP99Ms,
      value: `${figures.http.stats.p99} ms`,
    },
    {
      name: `vault-api cold start <= ${TARGETS.coldStartSeconds} s`,
      pass: figures.apiColdStartSeconds <= TARGETS.coldStartSeconds,
      value: `${figures.apiColdStartSeconds} s`,
    },
    {
      name: `vault-worker cold start <= ${TARGETS.coldStartSeconds} s`,
      pass: figures.workerColdStartSeconds <= TARGETS.coldStartSeconds,
      value: `${figures.workerColdStartSeconds} s`,
    },
    {
      name: 'Redis holds only near-due work (peak keys <= 3 × connections due within the lookahead + refreshed, and < 1 % of scheduled)',
      pass:
        peak.keys <= 3 * (figures.seed.dueSoon + tokenStats.calls) + 20 &&
        peak.keys < 0.01 * figures.seed.scheduled,
      value: `${peak.keys} keys, ${peak.bytes} bytes`,
    },
    {
      name: 'no errors under load (wrk: non-2xx, connect, read, write, timeout)',
      pass: figures.hotPath.cold.errors + figures.hotPath.warm.errors === 0,
      value: JSON.stringify({
        cold: figures.hotPath.cold.errorsByKind,
        warm: figures.hotPath.warm.errorsByKind,
      }),
    },
  ];
  figures.checks = checks;

  const line = (k, v) => console.log(`  ${k.padEnd(46)} ${v}`);
  console.log(`\n=== bench:scale: ${cfg.rows} connections ==============================================`);
  line(
    'seed (COPY)',
    `${figures.seed.seconds} s, ${figures.seed.rowsPerSecond} rows/s; ${figures.seed.scheduled} scheduled, ${figures.seed.dueSoon} due within ${cfg.lookaheadSeconds} s`,
  );
  line(
    `sweep claim (batch ${cfg.batch}) p50 / p99 / max`,
    `${figures.claim.p50} / ${figures.claim.p99} / ${figures.claim.max} ms (${figures.claim.meanClaimed} rows a claim, ` +
      `${figures.claim.roundsPerSweep} rounds a sweep)`,
  );
  line(
    "  release of a sweep's leases p50 / p99",
    `${figures.claim.release.p50} / ${figures.claim.release.p99} ms`,
  );
  line('vault_connections gauge refresh p50 / p99', `${figures.gauge.p50} / ${figures.gauge.p99} ms`);
  line(
    'cold start to ready: vault-api / vault-worker',
    `${figures.apiColdStartSeconds} / ${figures.workerColdStartSeconds} s`,
  );
  for (const k of ['cold', 'warm']) {
    const h = figures.hotPath[k];
    line(
      `token hot path, ${k} (${h.ids} ids)`,
      `${h.rps} req/s, p50 ${h.p50Ms} ms, p99 ${h.p99Ms} ms, server ${h.serverUsPerRequest} µs/request, ` +
        `cache hits ${h.tokenCacheHitRatio}`,
    );
  }
  const H = figures.http;
  line('GET /v1/connections first page p50 / p99', `${H.listFirstPage.p50} / ${H.listFirstPage.p99} ms`);
  line(
    "GET /v1/connections a tenant's page p50 / p99",
    `${H.listTenantPage.p50} / ${H.listTenantPage.p99} ms`,
  );
  line('GET /v1/connections 20 pages deep, slowest', `${H.listDeep.maxMs} ms`);
  line('GET /v1/stats (all tenants) p50 / p99', `${H.stats.p50} / ${H.stats.p99} ms`);
  line(
    'Redis under the prefix, peak with the worker',
    `${peak.keys} keys, ${peak.bytes} bytes (${figures.redis.refreshedMeanwhile} refreshed meanwhile)`,
  );
  line(
    '  per scheduled / per near-due connection',
    `${figures.redis.bytesPerScheduledConnection} / ${figures.redis.bytesPerDueSoonConnection} bytes`,
  );
  console.log('  claim plan:');
  for (const l of figures.claimPlan) console.log(`    ${l}`);
  for (const c of checks) console.log(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
  console.log('=========================================================================================\n');
  lib.writeResults('scale', figures);
  if (cfg.keep) log(`kept database ${db.name} (LOCAL_KMS_KEY=${masterKey})`);
}

lib.main('bench:scale', main);
