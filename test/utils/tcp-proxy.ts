import { connect, createServer, type Socket } from 'node:net';
import { Transform } from 'node:stream';

/**
 * A TCP proxy between the vault and a dependency (PostgreSQL, Redis…), to simulate an outage without touching
 * the shared server: `cut()` resets every open connection and every new one until `restore()`; `drop()`
 * silently discards what flows on open connections (a network that loses packets without closing anything).
 */
export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's (credentials, path and query kept). */
  url(target: string): string;
  /** Resets (RST) every open connection, both sides, and every connection made until `restore()`. */
  cut(): void;
  /**
   * Keeps every connection open but discards all bytes either way until `restore()`: neither side notices.
   * Bytes lost mid-message can leave a protocol out of step, so `cut()` after it to start clean.
   */
  drop(): void;
  /** Accepts and forwards connections (and their bytes) again. */
  restore(): void;
  /** Connections currently forwarded. */
  readonly openConnections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let cut = false;
  let dropping = false;
  const gate = () =>
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        done(null, dropping ? undefined : chunk);
      },
    });

  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(gate()).pipe(upstream);
    upstream.pipe(gate()).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const cutAll = () => {
    cut = true;
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };

  return {
    port,
    url(targetUrl: string) {
      const u = new URL(targetUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut: cutAll,
    drop() {
      dropping = true;
    },
    restore() {
      cut = false;
      dropping = false;
    },
    get openConnections() {
      return pairs.size;
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The host and port of a postgres:// or redis:// URL, for `startTcpProxy`. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port ? Number(u.port) : defaultPort };
}
