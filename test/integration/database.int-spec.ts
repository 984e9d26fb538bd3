import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  ConnectionsRepository,
  Database,
  DatabaseUnavailable,
  ForeignKeyViolation,
  IntegrationsRepository,
  UniqueViolation,
  type NewIntegration,
} from '@vault/persistence';
import { PG_ADMIN_URL, createTestDatabase, type TestDatabase } from '../utils/database';
import { freePort } from '../utils/processes';
import { query } from '../utils/refresh-fixtures';
import { hostPort, startTcpProxy, type TcpProxy } from '../utils/tcp-proxy';

const integration = (key: string): NewIntegration => ({
  id: randomUUID(),
  key,
  provider: 'oauth2',
  clientId: 'c',
  clientSecretSealed: Buffer.from('sealed'),
  tokenUrl: 'http://127.0.0.1:9/token',
  authorizeUrl: null,
  revokeUrl: null,
  scopes: [],
  clientAuth: 'client_secret_post',
  refreshMarginSeconds: null,
  requestTimeoutMs: null,
  allowedReturnUrls: [],
  authorizeParams: {},
});

/** Fails instead of hanging when the pool has no connection left to give (one leaked by a transaction). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Persistence's own way to PostgreSQL: prepared statements, transactions and typed errors. */
describe('Database', () => {
  let testDb: TestDatabase;
  let db: Database;
  let integrations: IntegrationsRepository;

  const keys = async () =>
    (await query<{ key: string }>(testDb.url, 'SELECT key FROM integrations ORDER BY key')).map((r) => r.key);

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = Database.connect({ url: testDb.url, poolSize: 1 });
    integrations = new IntegrationsRepository(db);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });
  beforeEach(async () => {
    await query(testDb.url, 'DELETE FROM integrations');
  });

  it('runs fixed statements as named prepared statements on the pooled connection', async () => {
    expect(await db.prepared('vault_test_add', 'SELECT $1::int + 1 AS n', [1])).toEqual([{ n: 2 }]);
    expect(await db.prepared('vault_test_add', 'SELECT $1::int + 1 AS n', [41])).toEqual([{ n: 42 }]);
    const prepared = await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
    expect(prepared.map((p) => p.name)).toContain('vault_test_add');
  });

  it('throws UniqueViolation naming the constraint, and ForeignKeyViolation', async () => {
    await integrations.insert(integration('dup'));
    const dup = await integrations.insert(integration('dup')).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(UniqueViolation);
    expect(dup).toMatchObject({ constraint: 'integrations_key_uq', table: 'integrations' });

    const orphan = await new ConnectionsRepository(db, { connectionsChanged: () => undefined })
      .insert({
        id: randomUUID(),
        integrationId: randomUUID(),
        tenantId: 't',
        externalId: null,
        endUserId: null,
        status: 'active',
        refreshTokenSealed: Buffer.from('x'),
        accessTokenSealed: null,
        accessTokenExpiresAt: null,
        tokenType: 'Bearer',
        scopes: [],
        metadata: {},
        nextRefreshAt: null,
        refreshTokenExpiresAt: null,
      })
      .catch((e: unknown) => e);
    expect(orphan).toBeInstanceOf(ForeignKeyViolation);
    expect(orphan).toMatchObject({ constraint: 'connections_integration_id_fkey' });
  });

  it('commits a transaction, rolls it back on any error, and gives its connection back every time', async () => {
    const insert = (tx: Parameters<Parameters<Database['transaction']>[0]>[0], key: string) =>
      tx.execute(
        `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, client_auth)
         VALUES ($1, $2, 'oauth2', 'c', '\\x00', 'client_secret_post')`,
        [randomUUID(), key],
      );
    expect(
      await db.transaction(async (tx) => {
        await insert(tx, 'a');
        await insert(tx, 'b');
        return 'done';
      }),
    ).toBe('done');

    const thrown = new Error('changed my mind');
    await expect(
      db.transaction(async (tx) => {
        await insert(tx, 'c');
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    await expect(
      db.transaction(async (tx) => {
        await insert(tx, 'd');
        await insert(tx, 'a');
      }),
    ).rejects.toBeInstanceOf(UniqueViolation);
    await expect(
      db.transaction(async (tx) => {
        await insert(tx, 'e');
        await tx.query('SELECT * FROM no_such_table');
      }),
    ).rejects.toMatchObject({ code: '42P01' });

    // The pool has one connection: had a transaction kept it, this would wait forever.
    expect(await within(keys(), 30_000, 'read after failed transactions')).toEqual(['a', 'b']);
    expect(await within(db.query('SELECT 1 AS ok'), 30_000, 'query on the pool')).toEqual([{ ok: 1 }]);
  });

  it('runs afterCommit callbacks once the data is visible: after COMMIT in a transaction, never after ROLLBACK', async () => {
    const seen: string[][] = [];
    const insertThen = (tx: Parameters<Parameters<Database['transaction']>[0]>[0], key: string) =>
      tx
        .execute(
          `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, client_auth)
           VALUES ($1, $2, 'oauth2', 'c', '\\x00', 'client_secret_post')`,
          [randomUUID(), key],
        )
        .then(() =>
          tx.afterCommit(() => {
            // What another connection sees when the callback runs.
            void keys().then((k) => seen.push([key, ...k]));
          }),
        );
    await db.transaction(async (tx) => {
      await insertThen(tx, 'committed');
      expect(seen).toEqual([]);
    });
    await expect(
      db.transaction(async (tx) => {
        await insertThen(tx, 'rolled-back');
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await insertThen(db, 'pooled');
    await within(
      (async () => {
        while (seen.length < 2) await new Promise((r) => setTimeout(r, 10));
      })(),
      30_000,
      'callbacks',
    );
    expect(seen.map((s) => s[0]).sort()).toEqual(['committed', 'pooled']);
    expect(seen.find((s) => s[0] === 'committed')?.slice(1)).toContain('committed');
  });

  it('throws DatabaseUnavailable when the backend is terminated mid-transaction, and keeps nothing of it', async () => {
    const failed = await db
      .transaction(async (tx) => {
        await tx.execute(
          `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, client_auth)
           VALUES ($1, 'terminated', 'oauth2', 'c', '\\x00', 'client_secret_post')`,
          [randomUUID()],
        );
        const [me] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // With a timeout, pg_terminate_backend waits until the backend is gone.
        await query(PG_ADMIN_URL, 'SELECT pg_terminate_backend($1, 10000)', [me?.pid]);
        await tx.query('SELECT 1');
      })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DatabaseUnavailable);
    expect(await keys()).toEqual([]);
    expect(await within(db.query('SELECT 1 AS ok'), 30_000, 'query after termination')).toEqual([{ ok: 1 }]);
  });

  describe('through a TCP proxy', () => {
    let proxy: TcpProxy;
    let proxied: Database;

    beforeAll(async () => {
      proxy = await startTcpProxy(hostPort(PG_ADMIN_URL, 5432));
      proxied = Database.connect({ url: proxy.url(testDb.url), poolSize: 2 });
    });
    afterAll(async () => {
      await proxied?.close();
      await proxy?.close();
    });
    afterEach(() => proxy.restore());

    it('throws DatabaseUnavailable while cut, for pooled and new connections, and works again after', async () => {
      await proxied.query('SELECT 1');
      proxy.cut();
      await expect(proxied.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailable);
      await expect(proxied.prepared('vault_test_one', 'SELECT 1', [])).rejects.toBeInstanceOf(
        DatabaseUnavailable,
      );
      await expect(proxied.transaction(() => Promise.resolve())).rejects.toBeInstanceOf(DatabaseUnavailable);
      proxy.restore();
      expect(await proxied.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    });

    it('leaves nothing of a transaction cut before its COMMIT', async () => {
      const failed = await proxied
        .transaction(async (tx) => {
          await tx.execute(
            `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, client_auth)
             VALUES ($1, 'half', 'oauth2', 'c', '\\x00', 'client_secret_post')`,
            [randomUUID()],
          );
          proxy.cut();
          await tx.query('SELECT 1');
        })
        .catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(DatabaseUnavailable);
      proxy.restore();
      expect(await keys()).toEqual([]);
      expect(await proxied.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    });
  });

  it('throws DatabaseUnavailable when nothing listens (connection refused)', async () => {
    const url = new URL(testDb.url);
    url.port = String(await freePort());
    const refused = Database.connect({ url: url.toString() });
    try {
      await expect(refused.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailable);
    } finally {
      await refused.close();
    }
  });

  it('throws DatabaseUnavailable when a connection cannot be opened within the connect timeout', async () => {
    // A server that accepts TCP and never answers PostgreSQL's startup.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const url = new URL(testDb.url);
    url.port = String((silent.address() as { port: number }).port);
    const hung = Database.connect({ url: url.toString(), connectTimeoutMs: 300 });
    try {
      await expect(hung.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailable);
    } finally {
      await hung.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
