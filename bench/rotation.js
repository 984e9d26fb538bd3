'use strict';
/**
 * `npm run bench:rotation`: token reads and refreshes keep running while the three rotations happen, one after
 * the other: a data key retired (re-seal job), the KMS key rotated (processes restarted one by one onto a new
 * master key, then the re-wrap job), the integration's client secret rotated with an overlap (PATCH, then the
 * provider switches to the new secret). Reports failed reads (target: 0), refreshes done, and how long each
 * rotation took to finish.
 *
 * Steps: fresh database + Redis prefix + keys -> instant token endpoint (bench/instant-token-server.js, which
 * accepts one client secret at a time and issues short-lived tokens so refreshes run all along) -> one
 * vault-api and one vault-worker from the TS sources -> one integration + BENCH_CONNECTIONS connections ->
 * BENCH_READERS loops reading random tokens (min_ttl=1) -> the three rotations -> figures -> JSON in
 * bench/results/.
 *
 * Exits non-zero only on errors; a missed target prints FAIL.
 *
 * Env knobs:
 *   BENCH_CONNECTIONS        connections (default 2000)
 *   BENCH_READERS            concurrent read loops (default 8)
 *   BENCH_TOKEN_LIFETIME     seconds the provider's access tokens live (default 60: each connection is
 *                            refreshed about every 30 s)
 *   BENCH_SECRET_SWITCH_SECONDS  seconds between the PATCH of the new client secret and the provider's switch
 *                            to it (default 10: refreshes meanwhile need the previous secret)
 *   BENCH_TIMEOUT            seconds each rotation may take before the run gives up (default 600)
 *   BENCH_LOG_LEVEL          LOG_LEVEL of the vault processes (default warn)
 *   KEY_ROTATION_BATCH_SIZE  passed to the worker when set
 */
const crypto = require('node:crypto');
const lib = require('./lib/run');
const { run, log, intEnv, sleep, round3 } = lib;
const { startVault, stopChild, startTokenServer, generateApiKey, apiCall, pool } = require('./lib/processes');
const { promSum } = require('./lib/metrics');

const cfg = {
  connections: intEnv('BENCH_CONNECTIONS', 2000),
  readers: intEnv('BENCH_READERS', 8),
  tokenLifetime: intEnv('BENCH_TOKEN_LIFETIME', 60),
  secretSwitchSeconds: intEnv('BENCH_SECRET_SWITCH_SECONDS', 10),
  timeoutSeconds: intEnv('BENCH_TIMEOUT', 600),
  logLevel: process.env.BENCH_LOG_LEVEL || 'warn',
};

/** What the token server saw so far (GET /stats). */
async function tokenServerStats(proc) {
  return (await fetch(`${proc.url}/stats`)).json();
}

/** The read load: `readers` loops against whichever API `state.api` names, until stopped. */
function startReaders(state, ids, adminKey) {
  const reads = { ok: 0, failed: 0, samples: [] };
  let running = true;
  const loop = async () => {
    while (running) {
      const id = ids[Math.floor(Math.random() * ids.length)];
      try {
        const res = await fetch(`${state.api.url}/v1/connections/${id}/token?min_ttl=1`, {
          headers: { authorization: `Bearer ${adminKey}` },
        });
        const text = await res.text();
        if (res.status === 200) reads.ok++;
        else {
          reads.failed++;
          if (reads.samples.length < 10) reads.samples.push(`${res.status} ${text.slice(0, 200)}`);
        }
      } catch (err) {
        reads.failed++;
        if (reads.samples.length < 10) reads.samples.push(String(err.cause?.code || err.message));
      }
    }
  };
  const loops = Array.from({ length: cfg.readers }, loop);
  return {
    reads,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Polls a key rotation job until it is done; throws if it fails or outlasts BENCH_TIMEOUT. */
async function waitForJob(state, adminKey, jobId) {
  const deadline = Date.now() + cfg.timeoutSeconds * 1000;
  for (;;) {
    const job = await apiCall(state.api.url, adminKey, 'GET', `/v1/admin/key-jobs/${jobId}`, null, 200);
    if (job.state === 'done') return job;
    if (job.state === 'failed') throw new Error(`key rotation job ${jobId} failed: ${job.error}`);
    if (Date.now() > deadline)
      throw new Error(`key rotation job ${jobId} still ${job.state} after the timeout`);
    await sleep(250);
  }
}

/** Starts the replacement first, then moves the reads to it, then stops the old one: no read goes nowhere. */
async function rollingRestart(state, env) {
  const started = Date.now();
  const api = await startVault('api', env, { logLevel: cfg.logLevel });
  const oldApi = state.api;
  state.api = api;
  await stopChild(oldApi);
  const worker = await startVault('worker', env, { logLevel: cfg.logLevel });
  await stopChild(state.worker);
  state.worker = worker;
  return (Date.now() - started) / 1000;
}

/** Refreshes retried with the previous client secret, by outcome, over the worker and the API. */
async function previousSecretCounts(state) {
  const out = { accepted: 0, rejected: 0 };
  for (const proc of [state.worker, state.api]) {
    const text = await (await fetch(`${proc.url}/metrics`)).text();
    const byOutcome = promSum(text, 'vault_refresh_previous_secret_total', 'outcome');
    out.accepted += byOutcome.accepted || 0;
    out.rejected += byOutcome.rejected || 0;
  }
  return out;
}

async function bench() {
  const db = await lib.createDatabase('rotation');
  const masterA = crypto.randomBytes(32).toString('base64');
  const masterB = crypto.randomBytes(32).toString('base64');
  const adminKey = generateApiKey();
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: lib.REDIS_URL,
    REDIS_PREFIX: lib.redisPrefix('rotation'),
    LOCAL_KMS_KEY: masterA,
    BOOTSTRAP_API_KEY: adminKey,
    // Tokens of BENCH_TOKEN_LIFETIME seconds are refreshed at half-life, below the default 60 s floor.
    MIN_REFRESH_INTERVAL_SECONDS: '1',
    ...(process.env.KEY_ROTATION_BATCH_SIZE
      ? { KEY_ROTATION_BATCH_SIZE: process.env.KEY_ROTATION_BATCH_SIZE }
      : {}),
  };
  const secrets = ['bench-secret-1', 'bench-secret-2'];
  const tokenServer = await startTokenServer({
    TOKEN_SERVER_CLIENT_SECRET: secrets[0],
    TOKEN_SERVER_EXPIRES_IN: String(cfg.tokenLifetime),
  });
  log(`token endpoint ${tokenServer.url}; starting vault-api and vault-worker (TS sources)`);
  const state = {
    api: await startVault('api', env, { logLevel: cfg.logLevel }),
    worker: await startVault('worker', env, { logLevel: cfg.logLevel }),
  };
  await apiCall(
    state.api.url,
    adminKey,
    'POST',
    '/v1/integrations',
    {
      key: 'bench',
      provider: 'oauth2',
      client_id: 'bench-client',
      client_secret: secrets[0],
      token_url: `${tokenServer.url}/token`,
    },
    201,
  );
  log(`seeding ${cfg.connections} connections`);
  const ids = [];
  await pool(cfg.connections, 32, async (i) => {
    const c = await apiCall(
      state.api.url,
      adminKey,
      'POST',
      '/v1/connections',
      {
        integration: 'bench',
        tenant_id: `tenant-${i % 10}`,
        external_id: `c${i}`,
        refresh_token: `bench-rt-${i}-${run.id}`,
        access_token: `bench-at-${i}`,
        expires_in: cfg.tokenLifetime,
      },
      201,
    );
    ids.push(c.id);
  });

  const readers = startReaders(state, ids, adminKey);
  await sleep(5_000);
  const callsAtStart = (await tokenServerStats(tokenServer)).calls;
  const figures = { rotations: {} };

  // 1. Retire every data key in use.
  let t = Date.now();
  const keys = (await apiCall(state.api.url, adminKey, 'GET', '/v1/admin/data-keys', null, 200)).data;
  const used = keys.filter((k) => k.sealed_values > 0);
  log(`retiring ${used.length} data key(s) holding ${used.reduce((a, k) => a + k.sealed_values, 0)} values`);
  for (const k of used) {
    const job = await apiCall(
      state.api.url,
      adminKey,
      'POST',
      `/v1/admin/data-keys/${k.id}/retire`,
      null,
      202,
    );
    await waitForJob(state, adminKey, job.id);
  }
  figures.rotations.dataKeyRetirement = {
    seconds: round3((Date.now() - t) / 1000),
    dataKeys: used.length,
    values: used.reduce((a, k) => a + k.sealed_values, 0),
  };
  log(`data key retirement done in ${figures.rotations.dataKeyRetirement.seconds} s`);

  // 2. KMS key rotation: every process onto the new master key (the old one kept to open), then re-wrap.
  const rotatedEnv = { ...env, LOCAL_KMS_KEY: masterB, LOCAL_KMS_PREVIOUS_KEYS: masterA };
  const restartSeconds = await rollingRestart(state, rotatedEnv);
  t = Date.now();
  const rewrap = await apiCall(state.api.url, adminKey, 'POST', '/v1/admin/data-keys/rewrap', null, 202);
  const rewrapped = await waitForJob(state, adminKey, rewrap.id);
  figures.rotations.kmsRewrap = {
    seconds: round3((Date.now() - t) / 1000),
    dataKeys: rewrapped.done,
    rollingRestartSeconds: round3(restartSeconds),
  };
  log(`KMS re-wrap done in ${figures.rotations.kmsRewrap.seconds} s (restarts: ${round3(restartSeconds)} s)`);

  // 3. Client secret: the vault first (with an overlap), the provider some seconds later.
  t = Date.now();
  await apiCall(
    state.api.url,
    adminKey,
    'PATCH',
    '/v1/integrations/bench',
    {
      client_secret: secrets[1],
      previous_secret_valid_until: new Date(Date.now() + 3600_000).toISOString(),
    },
    200,
  );
  const patchSeconds = (Date.now() - t) / 1000;
  await sleep(cfg.secretSwitchSeconds * 1000);
  const switched = Date.now();
  await fetch(`${tokenServer.url}/client-secret`, { method: 'POST', body: secrets[1] }).then((r) => r.text());
  const deadline = Date.now() + cfg.timeoutSeconds * 1000;
  let stats = await tokenServerStats(tokenServer);
  while (!stats.firstCallWithNewSecretAt) {
    if (Date.now() > deadline) throw new Error('no refresh with the new client secret before the timeout');
    await sleep(100);
    stats = await tokenServerStats(tokenServer);
  }
  const integration = await apiCall(state.api.url, adminKey, 'GET', '/v1/integrations/bench', null, 200);
  figures.rotations.clientSecret = {
    seconds: round3((stats.firstCallWithNewSecretAt - t) / 1000),
    patchSeconds: round3(patchSeconds),
    providerSwitchToFirstNewSecretCallSeconds: round3((stats.firstCallWithNewSecretAt - switched) / 1000),
    refreshesWithPreviousSecret: await previousSecretCounts(state),
    invalidClientAnswers: stats.invalidClient,
    integrationStatus: integration.status,
  };
  log(`client secret rotation done in ${figures.rotations.clientSecret.seconds} s`);

  await sleep(2_000);
  await readers.stop();
  stats = await tokenServerStats(tokenServer);
  const [counts] = await lib.withPg(
    db.url,
    async (c) =>
      (
        await c.query(`SELECT count(*) FILTER (WHERE status <> 'active')::int AS not_active,
                            (SELECT count(*) FROM data_keys)::int AS data_keys FROM connections`)
      ).rows,
  );
  Object.assign(figures, {
    config: cfg,
    reads: { ok: readers.reads.ok, failed: readers.reads.failed, failedSamples: readers.reads.samples },
    refreshesDone: stats.calls - callsAtStart,
    connectionsNotActive: counts.not_active,
    dataKeysLeft: counts.data_keys,
  });
  const pass = readers.reads.failed === 0 && counts.not_active === 0 && integration.status === 'ok';
  console.log(`\n${JSON.stringify(figures, null, 2)}`);
  console.log(
    `\n${pass ? 'PASS' : 'FAIL'}: ${readers.reads.failed} failed reads of ${readers.reads.ok + readers.reads.failed}` +
      `, ${figures.refreshesDone} refreshes, ${counts.not_active} connections not active, integration ${integration.status}`,
  );
  lib.writeResults('rotation', figures);
}

lib.main('bench:rotation', bench);
