'use strict';
/** Child processes of a benchmark: the vault's apps, the peers they talk to, and the load generators. */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { ROOT, run, log, sleep } = require('./run');

const SOURCE_ENTRY = { api: 'apps/vault-api/src/main.ts', worker: 'apps/vault-worker/src/main.ts' };
const DIST_ENTRY = {
  api: path.join(ROOT, 'dist/apps/vault-api/apps/vault-api/src/main.js'),
  worker: path.join(ROOT, 'dist/apps/vault-worker/apps/vault-worker/src/main.js'),
};
const REGISTER_TS = ['-r', './test/utils/register-ts.js'];
const PROFILE_HOOK = ['-r', path.join(ROOT, 'bench/profile-hook.js')];

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

/**
 * Starts `command args` (node when `command` is omitted) with exactly `env` plus PATH, keeps the tail of its
 * output for error reports, and registers it for cleanup.
 */
function startChild(name, args, env = {}, command = process.execPath) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH || '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { name, child, pid: child.pid, out: '', stdout: '', exit: null };
  child.stdout.on('data', (b) => {
    proc.stdout += b;
    proc.out = (proc.out + b).slice(-20_000);
  });
  child.stderr.on('data', (b) => (proc.out = (proc.out + b).slice(-20_000)));
  proc.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      proc.exit = signal || code;
      resolve(proc.exit);
    }),
  );
  run.children.push(proc);
  return proc;
}

const isRunning = (proc) => proc.exit === null;

function childFailure(proc) {
  return new Error(`${proc.name} exited (${proc.exit}); last output:\n${proc.out.slice(-4000)}`);
}

async function stopChild(proc, graceMs = 10_000) {
  if (isRunning(proc)) proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
  run.children = run.children.filter((p) => p !== proc);
}

/** Runs a child to its end; throws unless it exits 0. Returns its stdout. */
async function runChild(name, args, env, command) {
  const proc = startChild(name, args, env, command);
  const code = await proc.exited;
  run.children = run.children.filter((p) => p !== proc);
  if (code !== 0) throw childFailure(proc);
  return proc.stdout;
}

/** Polls `url` until it answers 2xx; throws with the child's output if it exits or times out first. */
async function waitReady(proc, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!isRunning(proc)) throw childFailure(proc);
    try {
      const res = await fetch(url);
      const text = await res.text();
      if (res.ok) return;
      last = `HTTP ${res.status}: ${text.slice(0, 300)}`;
    } catch (err) {
      last = err.cause?.code || err.message;
    }
    await sleep(50);
  }
  throw new Error(`${proc.name} not ready at ${url} after ${timeoutMs} ms (${last}):\n${proc.out}`);
}

/**
 * Starts vault-api or vault-worker and waits for /health/ready. From the TypeScript sources by default (as
 * the tests do), from dist/ with `fromDist` (see ensureBuild); `profile` preloads bench/profile-hook.js.
 * `root` runs another built checkout instead. Returns the child with `url` and `startSeconds` (spawn to ready).
 */
async function startVault(
  kind,
  env,
  { fromDist = false, profile = false, logLevel = 'warn', root = null } = {},
) {
  const port = await freePort();
  // `root`: another checkout of the project, built (its dist/), e.g. an earlier version to compare with.
  const entry = root
    ? [path.join(root, path.relative(ROOT, DIST_ENTRY[kind]))]
    : fromDist
      ? [DIST_ENTRY[kind]]
      : [...REGISTER_TS, SOURCE_ENTRY[kind]];
  const started = Date.now();
  const proc = startChild(kind, [...(profile ? PROFILE_HOOK : []), ...entry], {
    NODE_ENV: 'test',
    LOG_LEVEL: logLevel,
    HOST: '127.0.0.1',
    ...env,
    ...(kind === 'api' ? { PORT: String(port) } : { WORKER_PORT: String(port) }),
  });
  proc.url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${proc.url}/health/ready`);
  proc.startSeconds = (Date.now() - started) / 1000;
  return proc;
}

/**
 * bench/instant-token-server.js in its own process: an OAuth token endpoint that answers at once and records
 * every refresh token presented. Returns the child with `url`. `env`: its TOKEN_SERVER_* settings.
 */
async function startTokenServer(env = {}) {
  const proc = startChild('token-server', [path.join(ROOT, 'bench/instant-token-server.js')], env);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = /\{"port":(\d+)\}/.exec(proc.out);
    if (m) {
      proc.url = `http://127.0.0.1:${m[1]}`;
      return proc;
    }
    if (!isRunning(proc) || Date.now() > deadline) throw childFailure(proc);
    await sleep(20);
  }
}

/** A fresh API key from the vault's CLI (the bootstrap key of a benchmark run). */
function generateApiKey() {
  const res = spawnSync(process.execPath, [...REGISTER_TS, 'apps/vault-api/src/cli.ts', 'generate-api-key'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`generate-api-key failed: ${res.stderr}`);
  return res.stdout.trim();
}

function newestMtime(dir, filter) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, filter));
    else if (filter(entry.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** `nest build <app>` unless dist/ is newer than the sources (BENCH_SKIP_BUILD=1: use dist/ as it is). */
function ensureBuild(app) {
  const main = DIST_ENTRY[app === 'vault-api' ? 'api' : 'worker'];
  const built = fs.existsSync(main) ? fs.statSync(main).mtimeMs : 0;
  if (process.env.BENCH_SKIP_BUILD === '1') {
    if (!built) throw new Error(`BENCH_SKIP_BUILD=1 but dist/ has no ${app} build`);
    log('BENCH_SKIP_BUILD=1: using dist/ as it is');
    return;
  }
  const isSource = (n) => n.endsWith('.ts') && !n.endsWith('.spec.ts');
  const sources = Math.max(
    newestMtime(path.join(ROOT, 'apps', app), isSource),
    newestMtime(path.join(ROOT, 'libs'), isSource),
    ...['tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', `apps/${app}/tsconfig.app.json`]
      .map((f) => path.join(ROOT, f))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.statSync(f).mtimeMs),
  );
  if (built && built >= sources) return log(`dist/ ${app} is up to date`);
  log(`${built ? 'sources are newer than dist/' : 'no build in dist/'}: building ${app}...`);
  const started = Date.now();
  const res = spawnSync(path.join(ROOT, 'node_modules/.bin/nest'), ['build', app], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`nest build ${app} failed:\n${res.stdout}\n${res.stderr}`);
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** JSON call to the vault API; throws unless the status is the expected one. */
async function apiCall(base, apiKey, method, pathname, body, expected) {
  const res = await fetch(base + pathname, {
    method,
    headers: {
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
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
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

module.exports = {
  freePort,
  startChild,
  stopChild,
  runChild,
  isRunning,
  childFailure,
  waitReady,
  startVault,
  startTokenServer,
  generateApiKey,
  ensureBuild,
  apiCall,
  pool,
};
