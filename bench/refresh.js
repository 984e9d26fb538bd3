'use strict';
/**
 * `npm run bench:refresh`: throughput, lag and exactly-once of the scheduled refresh path of vault-worker.
 *
 * Steps: fresh database + Redis prefix + keys -> instant token endpoint in its own process
 * (bench/instant-token-server.js) -> vault-api from the TS sources -> one integration pointing at the instant
 * endpoint + BENCH_CONNECTIONS imported connections (not due: expires_in 3600) -> vault-api stopped ->
 * `UPDATE connections SET next_refresh_at = now()` (T0, everything due at once) -> ONE vault-worker process
 * from the TS sources -> poll PostgreSQL every 250 ms until every connection has last_refreshed_at >= T0 ->
 * figures (throughput, lag per connection from the DB, provider calls per connection from the token endpoint,
 * the worker's own metrics, CPU) -> PASS/FAIL against the targets -> JSON in bench/results/.
 *
 * Targets: >= 500 refreshes/s with one worker process, lag p99 < 5 s, exactly one provider call per due
 * connection (and no refresh token presented twice).
 *
 * The lag is measured twice, per connection from the DB: last_refreshed_at - due time (T0, or the connection's
 * own due time with BENCH_SPREAD_SECONDS; includes the worker's start-up, since the worker is started after
 * T0) and last_refreshed_at - max(due time, worker ready). The PASS/FAIL lag verdict uses the latter: in
 * production the worker is already running when connections fall due. With every connection due at once, the
 * last one waits N / rate: lag p99 ~ 0.99 * N / rate (10,000 at 500/s: ~20 s), whatever the sweep does.
 *
 * Exits non-zero only on errors; a missed target prints FAIL.
 *
 * Env knobs:
 *   BENCH_CONNECTIONS      connections imported and refreshed (default 10000)
 *   BENCH_SEED_CONCURRENCY concurrent imports (default 32)
 *   BENCH_TIMEOUT          seconds to wait for every refresh before giving up (default 300)
 *   BENCH_LOG_LEVEL        LOG_LEVEL of the vault processes (default warn)
 *   BENCH_SPREAD_SECONDS   0 (default): all due at T0 (a burst). N > 0: due times spread uniformly over
 *                          [T0, T0 + N s] (steady state); lag is then taken per connection from its own due time
 *   BENCH_DUE_IN_SECONDS   30 (default): the worker is running and all connections fall due together this many
 *                          seconds ahead (T0 = now + 30 s, the sweep's default lookahead), as in production.
 *                          0: all due at once *before* the worker starts (a backlog after a worker outage): the
 *                          lag then measures how long the backlog takes to drain.
 *   BENCH_PROFILE=1        CPU-profile the worker from ready to done (bench/profile-hook.js); prints the top
 *                          costs and keeps the .cpuprofile in bench/results/
 *   SWEEP_INTERVAL_MS, SWEEP_BATCH_SIZE, SWEEP_LOOKAHEAD_SECONDS, WORKER_CONCURRENCY, DATABASE_POOL_SIZE,
 *   REFRESH_CLAIM_LEASE_SECONDS, PROVIDER_TIMEOUT_MS
 *                          passed to the worker when set (defaults of libs/core/src/config/vault-config.ts
 *                          otherwise); the figures record which were set.
 */
const crypto = require('node:crypto');
const os = require('node:os');
const { Client } = require('pg');
const { Redis } = require('ioredis');
const lib = require('./lib/run');
const { REDIS_URL, run, log, intEnv, sleep, round3 } = lib;
const { stopChild, startVault, startTokenServer, generateApiKey } = require('./lib/processes');
const { procCpuSeconds, machineCpu } = require('./lib/cpu');
const { parseHistogram, counterSum } = require('./lib/metrics');
const { profilePath, startProfile, stopProfile, summarizeProfile, printProfile } = require('./lib/profile');

const WORKER_KNOBS = [
  'SWEEP_INTERVAL_MS',
  'SWEEP_BATCH_SIZE',
  'SWEEP_LOOKAHEAD_SECONDS',
  'WORKER_CONCURRENCY',
  'DATABASE_POOL_SIZE',
  'REFRESH_CLAIM_LEASE_SECONDS',
  'PROVIDER_TIMEOUT_MS',
];

const cfg = {
  connections: intEnv('BENCH_CONNECTIONS', 10_000),
  seedConcurrency: intEnv('BENCH_SEED_CONCURRENCY', 32),
  timeoutSeconds: intEnv('BENCH_TIMEOUT', 300),
  logLevel: process.env.BENCH_LOG_LEVEL || 'warn',
  profile: process.env.BENCH_PROFILE === '1',
  spreadSeconds: Number(process.env.BENCH_SPREAD_SECONDS || 0),
  dueInSeconds: Number(process.env.BENCH_DUE_IN_SECONDS ?? 30),
  pollMs: 250,
};

const TARGETS = { minRefreshesPerSecond: 500, maxLagP99Seconds: 5, callsPerConnection: 1 };

async function redisCommandsProcessed() {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    const info = await redis.info('stats');
    const m = /total_commands_processed:(\d+)/.exec(info);
    return m ? Number(m[1]) : null;
  } finally {
    redis.disconnect();
  }
}

async function pgDbStats(c, name) {
  const { rows } = await c.query(
    `SELECT xact_commit::bigint AS xact_commit, tup_inserted::bigint AS tup_inserted, tup_updated::bigint AS tup_updated,
            tup_returned::bigint AS tup_returned, tup_fetched::bigint AS tup_fetched
     FROM pg_stat_database WHERE datname = $1`,
    [name],
  );
  const r = rows[0] || {};
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
}

// ---------------------------------------------------------------------------------------------------------

async function seed(api, tokenUrl, adminKey) {
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const res = await fetch(`${api.url}/v1/integrations`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      key: 'bench',
      provider: 'oauth2',
      client_id: 'c',
      client_secret: 's',
      token_url: tokenUrl,
      client_auth: 'client_secret_post',
    }),
  });
  if (res.status !== 201) throw new Error(`creating the integration: ${res.status} ${await res.text()}`);
  await res.arrayBuffer().catch(() => undefined);

  let next = 0;
  let done = 0;
  const t = Date.now();
  const one = async (i) => {
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${api.url}/v1/connections`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          integration: 'bench',
          tenant_id: `tenant-${i % 100}`,
          external_id: `conn-${i}`,
          refresh_token: `bench-rt-${i}-${crypto.randomBytes(8).toString('hex')}`,
          access_token: `bench-at0-${i}`,
          expires_in: 3600,
        }),
      });
      const body = await r.text();
      if (r.status === 201 || r.status === 200) return;
      if (attempt < 2 && r.status >= 500) continue;
      throw new Error(`importing connection ${i}: ${r.status} ${body}`);
    }
  };
  const lane = async () => {
    while (next < cfg.connections) {
      const i = next++;
      await one(i);
      done++;
      if (done % 2000 === 0) log(`  imported ${done}/${cfg.connections}`);
    }
  };
  await Promise.all(Array.from({ length: cfg.seedConcurrency }, lane));
  return (Date.now() - t) / 1000;
}

async function main() {
  log(
    `bench:refresh run ${run.id}: ${cfg.connections} connections, ${os.cpus().length} cores, node ${process.version}`,
  );
  const db = await lib.createDatabase('refresh');
  const url = db.url;
  const prefix = lib.redisPrefix('refresh');
  log(`database ${db.name}, Redis prefix ${prefix}`);

  const adminKey = generateApiKey();
  const baseEnv = {
    DATABASE_URL: url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    KMS_DRIVER: 'local',
    LOCAL_KMS_KEY: crypto.randomBytes(32).toString('base64'),
    BOOTSTRAP_API_KEY: adminKey,
  };

  const tokenServer = await startTokenServer();
  const tokenUrl = `${tokenServer.url}/token`;
  log(`instant token endpoint ${tokenUrl} (pid ${tokenServer.child.pid})`);

  log('starting vault-api (TS sources)');
  const api = await startVault('api', baseEnv, { logLevel: cfg.logLevel });
  log(`seeding ${cfg.connections} connections (concurrency ${cfg.seedConcurrency})`);
  const seedSeconds = await seed(api, tokenUrl, adminKey);
  log(
    `seeded in ${seedSeconds.toFixed(1)} s (${Math.round(cfg.connections / seedSeconds)}/s); stopping vault-api`,
  );
  await stopChild(api);

  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const { rows: pre } = await pg.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE next_refresh_at > now())::int AS not_due,
              count(*) FILTER (WHERE status = 'active')::int AS active
       FROM connections`,
    );
    if (pre[0].n !== cfg.connections)
      throw new Error(`expected ${cfg.connections} connections, found ${pre[0].n}`);
    if (pre[0].not_due !== cfg.connections)
      throw new Error(`${cfg.connections - pre[0].not_due} connections were already due`);
    const before = await pgDbStats(pg, db.name);
    const redisBefore = await redisCommandsProcessed().catch(() => null);

    const knobs = {};
    for (const k of WORKER_KNOBS) if (process.env[k]) knobs[k] = process.env[k];
    const profileFile = profilePath('refresh-worker');
    let worker, spawnAt, readyAt, cpuAtReady, tokCpuAtReady, machineAtReady;
    const startWorker = async () => {
      log(
        `starting ONE vault-worker (TS sources)${Object.keys(knobs).length ? ` with ${JSON.stringify(knobs)}` : ' with default knobs'}`,
      );
      spawnAt = Date.now();
      worker = await startVault(
        'worker',
        { ...baseEnv, ...knobs, BENCH_PROFILE_FILE: profileFile },
        { profile: cfg.profile, logLevel: cfg.logLevel },
      );
      readyAt = new Date();
      if (cfg.profile) startProfile(worker);
      cpuAtReady = procCpuSeconds(worker.child.pid);
      tokCpuAtReady = procCpuSeconds(tokenServer.child.pid);
      machineAtReady = machineCpu();
      log(`worker ready after ${((readyAt - spawnAt) / 1000).toFixed(1)} s (pid ${worker.child.pid})`);
    };
    if (cfg.dueInSeconds > 0) await startWorker();

    // T0: everything due at once (the DB's clock; same machine as ours), now or BENCH_DUE_IN_SECONDS ahead.
    const { rows: t0rows } = await pg.query(
      `WITH u AS (UPDATE connections
                  SET next_refresh_at = now() + $2 * interval '1 second' + random() * $1 * interval '1 second'
                  RETURNING 1)
       SELECT now() + $2 * interval '1 second' AS t0, now() AS set_at, (SELECT count(*)::int FROM u) AS n`,
      [cfg.spreadSeconds, cfg.dueInSeconds],
    );
    // Each connection's due time, kept beside the vault's tables for the lag figures.
    await pg.query(`CREATE TABLE bench_due AS SELECT id, next_refresh_at AS due FROM connections`);
    const T0 = t0rows[0].t0;
    const setAt = t0rows[0].set_at;
    log(
      `T0 = ${T0.toISOString()}: ${t0rows[0].n} connections due ${cfg.dueInSeconds > 0 ? `in ${cfg.dueInSeconds} s` : 'now'}`,
    );
    if (cfg.dueInSeconds === 0) await startWorker();
    // Work can start once the connections are due within reach and the worker runs.
    const startAt = new Date(Math.max(readyAt.getTime(), setAt.getTime()));

    // Poll until every connection was refreshed after T0.
    const deadline = Date.now() + cfg.timeoutSeconds * 1000;
    const progress = [];
    let polls = 0;
    let lastLog = 0;
    let doneAt = null;
    for (;;) {
      const { rows } = await pg.query(
        `SELECT count(*) FILTER (WHERE last_refreshed_at >= $1)::int AS done FROM connections`,
        [setAt],
      );
      polls++;
      const n = rows[0].done;
      const now = Date.now();
      progress.push({ t: Math.round(now - startAt.getTime()), done: n });
      if (n >= cfg.connections) {
        doneAt = new Date(now);
        break;
      }
      if (now - lastLog >= 2000) {
        lastLog = now;
        log(`  refreshed ${n}/${cfg.connections}`);
      }
      if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.out}`);
      if (now > deadline)
        throw new Error(`timed out after ${cfg.timeoutSeconds} s with ${n} refreshed:\n${worker.out}`);
      await sleep(cfg.pollMs);
    }
    const cpuAtDone = procCpuSeconds(worker.child.pid);
    const tokCpuAtDone = procCpuSeconds(tokenServer.child.pid);
    const machineAtDone = machineCpu();
    if (cfg.profile) await stopProfile(worker, profileFile);
    log(`all ${cfg.connections} refreshed (poll resolution ${cfg.pollMs} ms)`);

    // Figures from the DB: when each connection was refreshed.
    const { rows: lagRows } = await pg.query(
      `WITH l AS (SELECT greatest(0, extract(epoch FROM c.last_refreshed_at - d.due)) AS from_t0,
                         greatest(0, extract(epoch FROM c.last_refreshed_at - greatest(d.due, $2::timestamptz)))
                           AS from_ready
                  FROM connections c JOIN bench_due d ON d.id = c.id WHERE $1::timestamptz IS NOT NULL)
       SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY from_t0) AS t0_p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY from_t0) AS t0_p99,
              max(from_t0) AS t0_max, min(from_t0) AS t0_min,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY from_ready) AS ready_p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY from_ready) AS ready_p99,
              max(from_ready) AS ready_max, min(from_ready) AS ready_min
       FROM l`,
      [T0, readyAt],
    );
    const L = Object.fromEntries(Object.entries(lagRows[0]).map(([k, v]) => [k, round3(Number(v))]));
    const { rows: stateRows } = await pg.query(
      `SELECT status, count(*)::int AS n, min(next_refresh_at) AS next_min, max(refresh_failures)::int AS max_failures
       FROM connections GROUP BY status`,
    );
    const { rows: attemptRows } = await pg.query(
      `SELECT outcome, count(*)::int AS n FROM refresh_attempts GROUP BY outcome ORDER BY outcome`,
    );
    const { rows: perConnAttempts } = await pg.query(
      `SELECT n, count(*)::int AS connections FROM (SELECT count(*) AS n FROM refresh_attempts GROUP BY connection_id) a
       GROUP BY n ORDER BY n`,
    );

    // Settle: late duplicate calls would show up at the token endpoint within a sweep interval or two.
    await sleep(Math.max(2500, Number(knobs.SWEEP_INTERVAL_MS || 2000) + 500));
    const tokenStats = await (await fetch(`${tokenServer.url}/stats`)).json();
    const metricsText = await (await fetch(`${worker.url}/metrics`)).text();
    await sleep(1200); // pg_stat_database is flushed about once a second
    const after = await pgDbStats(pg, db.name);
    const redisAfter = await redisCommandsProcessed().catch(() => null);

    const profile = cfg.profile ? summarizeProfile(profileFile) : null;
    await stopChild(worker);

    // -------------------------------------------------------------------------------------------------------
    const n = cfg.connections;
    const elapsedReady = (doneAt - startAt) / 1000;
    const elapsedT0 = (doneAt - T0) / 1000;
    const firstCall = tokenStats.firstCallAt ? new Date(tokenStats.firstCallAt) : null;
    const lastCall = tokenStats.lastCallAt ? new Date(tokenStats.lastCallAt) : null;
    const callWindow = firstCall && lastCall ? (lastCall - firstCall) / 1000 : null;
    const exactlyOnceConnections = tokenStats.callsPerConnection['1'] || 0;
    const exactlyOnceShare = tokenStats.duplicateTokens === 0 ? tokenStats.originalsPresentedOnce / n : 0;
    const workerCpu = cpuAtDone !== null && cpuAtReady !== null ? round3(cpuAtDone - cpuAtReady) : null;
    const tokenCpu =
      tokCpuAtDone !== null && tokCpuAtReady !== null ? round3(tokCpuAtDone - tokCpuAtReady) : null;
    const machineBusy =
      machineAtDone && machineAtReady
        ? round3((machineAtDone.busy - machineAtReady.busy) / (machineAtDone.total - machineAtReady.total))
        : null;
    const delta = (k) => (after[k] !== undefined && before[k] !== undefined ? after[k] - before[k] : null);
    const xacts = delta('xact_commit');

    const figures = {
      run: run.id,
      date: new Date().toISOString(),
      machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
      connections: n,
      dueSpreadSeconds: cfg.spreadSeconds,
      dueInSeconds: cfg.dueInSeconds,
      workerKnobs: { set: knobs, note: 'unset knobs use the defaults of vault-config.ts' },
      seedSeconds: round3(seedSeconds),
      workerStartSeconds: round3((readyAt - spawnAt) / 1000),
      t0: T0.toISOString(),
      workerReadyAt: readyAt.toISOString(),
      doneAt: doneAt.toISOString(),
      elapsedFromReadySeconds: round3(elapsedReady),
      elapsedFromT0Seconds: round3(elapsedT0),
      refreshesPerSecondFromReady: Math.round(n / elapsedReady),
      refreshesPerSecondFromT0: Math.round(n / elapsedT0),
      providerCallWindowSeconds: callWindow === null ? null : round3(callWindow),
      refreshesPerSecondProviderWindow: callWindow ? Math.round(tokenStats.calls / callWindow) : null,
      lagFromDueSeconds: { p50: L.t0_p50, p99: L.t0_p99, min: L.t0_min, max: L.t0_max },
      lagFromReadySeconds: { p50: L.ready_p50, p99: L.ready_p99, min: L.ready_min, max: L.ready_max },
      provider: {
        calls: tokenStats.calls,
        connectionsSeen: tokenStats.connectionsSeen,
        callsPerConnection: tokenStats.callsPerConnection,
        originalsPresentedOnce: tokenStats.originalsPresentedOnce,
        duplicateTokens: tokenStats.duplicateTokens,
        duplicates: tokenStats.duplicates,
        unknownTokens: tokenStats.unknownTokens,
        badRequests: tokenStats.badRequests,
      },
      exactlyOnceConnections,
      exactlyOnceShare: round3(exactlyOnceShare),
      connectionStates: stateRows.map((r) => ({ ...r, next_min: r.next_min && r.next_min.toISOString() })),
      refreshAttempts: { byOutcome: attemptRows, perConnection: perConnAttempts },
      workerMetrics: {
        refreshLag: parseHistogram(metricsText, 'vault_refresh_lag_seconds'),
        providerCallDuration: parseHistogram(metricsText, 'vault_token_refresh_duration_seconds'),
        refreshTotal: counterSum(metricsText, 'vault_token_refresh_total'),
        kmsRequests: counterSum(metricsText, 'vault_kms_requests_total'),
        dataKeyCache: counterSum(metricsText, 'vault_data_key_cache_total'),
      },
      cpu: {
        workerSecondsReadyToDone: workerCpu,
        workerMsPerRefresh: workerCpu === null ? null : round3((workerCpu * 1000) / n),
        workerCoresUsed: workerCpu === null ? null : round3(workerCpu / elapsedReady),
        tokenServerSeconds: tokenCpu,
        machineBusyShare: machineBusy,
      },
      database: {
        transactionsDelta: xacts,
        transactionsPerRefreshApprox: xacts === null ? null : round3((xacts - polls - 6) / n),
        rowsInsertedDelta: delta('tup_inserted'),
        rowsUpdatedDelta: delta('tup_updated'),
        note: 'pg_stat_database of the bench database from before T0 to the end (includes the sweep, the worker start and ~4 polls/s)',
      },
      redis: {
        commandsDeltaApprox: redisBefore !== null && redisAfter !== null ? redisAfter - redisBefore : null,
        commandsPerRefreshApprox:
          redisBefore !== null && redisAfter !== null ? round3((redisAfter - redisBefore) / n) : null,
        note: 'INFO total_commands_processed of the whole Redis server: other users of the server are counted too',
      },
      progress: thin(progress, 60),
      profile,
    };

    const checks = [
      {
        name: `refreshes/s (one worker, from ready) >= ${TARGETS.minRefreshesPerSecond}`,
        value: figures.refreshesPerSecondFromReady,
        // With spread due times the rate is bounded by the due rate: not a throughput measurement.
        pass:
          cfg.spreadSeconds > 0 ? null : figures.refreshesPerSecondFromReady >= TARGETS.minRefreshesPerSecond,
      },
      {
        name: `lag p99 (due -> refreshed, worker running) < ${TARGETS.maxLagP99Seconds} s`,
        value: L.ready_p99,
        pass: L.ready_p99 < TARGETS.maxLagP99Seconds,
      },
      {
        name: 'exactly one provider call per due connection, no refresh token used twice',
        value: `${exactlyOnceConnections}/${n} once, ${tokenStats.duplicateTokens} tokens twice, ${tokenStats.calls} calls`,
        pass:
          tokenStats.calls === n &&
          exactlyOnceConnections === n &&
          tokenStats.originalsPresentedOnce === n &&
          tokenStats.duplicateTokens === 0 &&
          tokenStats.unknownTokens === 0,
      },
    ];
    figures.targets = TARGETS;
    figures.checks = checks;
    figures.pass = checks.every((c) => c.pass !== false);

    printReport(figures, checks);
    lib.writeResults('refresh', figures);
  } finally {
    await pg.end().catch(() => undefined);
  }
}

function thin(list, max) {
  if (list.length <= max) return list;
  const step = list.length / max;
  const out = [];
  for (let i = 0; i < max; i++) out.push(list[Math.floor(i * step)]);
  out.push(list[list.length - 1]);
  return out;
}

function printReport(f, checks) {
  const line = (k, v) => console.log(`  ${k.padEnd(44)} ${v}`);
  console.log('\n=== bench:refresh =====================================================================');
  line('connections', f.connections);
  line(
    'due times',
    (f.dueSpreadSeconds > 0 ? `spread over ${f.dueSpreadSeconds} s from T0` : 'all at T0 (burst)') +
      (f.dueInSeconds > 0
        ? `, T0 = ${f.dueInSeconds} s after they were set, worker running`
        : ', already due when the worker starts'),
  );
  line(
    'worker knobs set',
    Object.keys(f.workerKnobs.set).length ? JSON.stringify(f.workerKnobs.set) : '(defaults)',
  );
  line(
    'worker start (spawn -> ready)',
    `${f.workerStartSeconds} s (T0 -> ready ${round3((new Date(f.workerReadyAt) - new Date(f.t0)) / 1000)} s)`,
  );
  line(
    'elapsed start -> all refreshed',
    `${f.elapsedFromReadySeconds} s  => ${f.refreshesPerSecondFromReady} refreshes/s`,
  );
  line(
    'elapsed T0 -> all refreshed',
    f.elapsedFromT0Seconds <= 0
      ? `all refreshed ${-f.elapsedFromT0Seconds} s before T0`
      : `${f.elapsedFromT0Seconds} s  => ${f.refreshesPerSecondFromT0} refreshes/s`,
  );
  line(
    'provider call window (first -> last call)',
    `${f.providerCallWindowSeconds} s  => ${f.refreshesPerSecondProviderWindow} calls/s`,
  );
  line(
    'lag from due time (DB) p50 / p99 / max',
    `${f.lagFromDueSeconds.p50} / ${f.lagFromDueSeconds.p99} / ${f.lagFromDueSeconds.max} s`,
  );
  line(
    'lag from max(due, ready) (DB) p50 / p99 / max',
    `${f.lagFromReadySeconds.p50} / ${f.lagFromReadySeconds.p99} / ${f.lagFromReadySeconds.max} s`,
  );
  const wl = f.workerMetrics.refreshLag;
  if (wl)
    line(
      'worker vault_refresh_lag_seconds (job start)',
      `count ${wl.count}, mean ${wl.mean} s, ~p50 ${wl.p50} s, ~p99 ${wl.p99} s`,
    );
  const pd = f.workerMetrics.providerCallDuration;
  if (pd) line('worker provider call duration', `count ${pd.count}, mean ${pd.mean} s, ~p99 ${pd.p99} s`);
  line(
    'provider calls / calls per connection',
    `${f.provider.calls} / ${JSON.stringify(f.provider.callsPerConnection)}`,
  );
  line(
    'exactly once',
    `${(f.exactlyOnceShare * 100).toFixed(2)}% (${f.exactlyOnceConnections}/${f.connections}; ${f.provider.duplicateTokens} refresh tokens presented twice, ${f.provider.unknownTokens} unknown)`,
  );
  line(
    'refresh_attempts by outcome',
    f.refreshAttempts.byOutcome.map((r) => `${r.outcome}=${r.n}`).join(', '),
  );
  line('connection states', f.connectionStates.map((r) => `${r.status}=${r.n}`).join(', '));
  line(
    'worker CPU ready -> done',
    `${f.cpu.workerSecondsReadyToDone} s (${f.cpu.workerMsPerRefresh} ms/refresh, ${f.cpu.workerCoresUsed} cores)`,
  );
  line(
    'token server CPU / machine busy',
    `${f.cpu.tokenServerSeconds} s / ${f.cpu.machineBusyShare === null ? '?' : `${(f.cpu.machineBusyShare * 100).toFixed(0)}%`} of all cores`,
  );
  line('PostgreSQL transactions per refresh (approx)', f.database.transactionsPerRefreshApprox);
  line('Redis commands per refresh (approx, server-wide)', f.redis.commandsPerRefreshApprox);
  line('KMS requests (worker)', JSON.stringify(f.workerMetrics.kmsRequests.byLabels));
  if (f.profile) printProfile('worker (ready -> done)', f.profile);
  console.log('\n  targets:');
  for (const c of checks)
    console.log(`    ${c.pass === null ? 'n/a ' : c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
  console.log(`\n  overall: ${f.pass ? 'PASS' : 'FAIL'}`);
  console.log('=========================================================================================\n');
}

lib.main('bench:refresh', main);
