import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const ENTRY = {
  api: 'apps/vault-api/src/main.ts',
  worker: 'apps/vault-worker/src/main.ts',
} as const;

export interface VaultProcess {
  kind: keyof typeof ENTRY;
  port: number;
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGKILL: no shutdown hook runs, in-flight work is cut. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real vault process (API or worker) from the TypeScript sources, with the given environment, and
 * waits until its readiness endpoint answers 200.
 */
export async function startVaultProcess(
  kind: keyof typeof ENTRY,
  env: Record<string, string>,
): Promise<VaultProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', './test/utils/register-ts.js', ENTRY[kind]], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ...env,
      ...(kind === 'api' ? { PORT: String(port) } : { WORKER_PORT: String(port) }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited at start:\n${out}`);
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    kind,
    port,
    url,
    child,
    output: () => out,
    kill9: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts several processes at once. Every process that did start is pushed to `started` before a failure of
 * another is thrown, so the caller's afterAll stops them all.
 */
export async function startVaultProcesses(
  specs: { kind: keyof typeof ENTRY; env: Record<string, string> }[],
  started: VaultProcess[],
): Promise<VaultProcess[]> {
  const results = await Promise.allSettled(specs.map((s) => startVaultProcess(s.kind, s.env)));
  for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<VaultProcess>).value);
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the operator CLI (`apps/vault-api/src/cli.ts`) as a process from the TypeScript sources, to its end. */
export async function runVaultCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    ['-r', './test/utils/register-ts.js', 'apps/vault-api/src/cli.ts', ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}
