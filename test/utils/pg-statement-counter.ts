import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that counts the statements its clients run, read off the wire protocol:
 * every simple query ('Q') and every execution of an extended-protocol portal ('E', also for named prepared
 * statements, which skip 'P'). Point a DATABASE_URL at `url(database)` to measure what a process asks of the
 * database without touching its code.
 */
export interface PgStatementCounter {
  port: number;
  url(databaseUrl: string): string;
  /** Statements run through the proxy since it started. */
  statements(): number;
  /** Statements run through the proxy while `fn` ran. */
  cost(fn: () => Promise<unknown>): Promise<number>;
  close(): Promise<void>;
}

export async function startPgStatementCounter(
  upstream = { host: '127.0.0.1', port: 5432 },
): Promise<PgStatementCounter> {
  let statements = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const db = connect(upstream.port, upstream.host);
    sockets.add(client).add(db);
    let buffered = Buffer.alloc(0);
    let startup = true;
    client.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (startup) {
          // StartupMessage / SSLRequest: int32 length (itself included), no type byte.
          if (buffered.length < 8) break;
          const len = buffered.readInt32BE(0);
          if (buffered.length < len) break;
          const code = buffered.readInt32BE(4);
          buffered = buffered.subarray(len);
          if (code !== 80877103 && code !== 80877104) startup = false; // not an SSL/GSS request
          continue;
        }
        if (buffered.length < 5) break;
        const len = buffered.readInt32BE(1);
        if (buffered.length < len + 1) break;
        const type = String.fromCharCode(buffered[0] ?? 0);
        if (type === 'Q' || type === 'E') statements++;
        buffered = buffered.subarray(len + 1);
      }
      db.write(chunk);
    });
    db.on('data', (chunk) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      db.destroy();
      sockets.delete(client);
      sockets.delete(db);
    };
    client.on('close', end).on('error', end);
    db.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url(databaseUrl) {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    statements: () => statements,
    async cost(fn) {
      const before = statements;
      await fn();
      return statements - before;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
