import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@vault/core';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../utils/database';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { startVaultProcesses, type VaultProcess } from '../utils/processes';
import { createIntegration, httpCaller, oidcIntegration, waitFor } from '../utils/refresh-fixtures';
import { hostPort, startTcpProxy, type TcpProxy } from '../utils/tcp-proxy';
import type { TestApi } from '../utils/api';

/** The vault's default Redis, which process A uses directly and process B through `redisProxy`. */
const REDIS_URL = 'redis://127.0.0.1:6379';
/**
 * The token cache's maximum age in both processes: long enough that a change seen well before it was told by
 * the invalidation message, not by the entry's expiry.
 */
const MAX_AGE_MS = 6000;

type Answer = Awaited<ReturnType<TestApi['call']>>;

/**
 * Two real API processes sharing one database and Redis prefix, each with its token cache. A writes (refresh,
 * re-consent flag, revocation, grant replacement, delete); B, which has the row in its cache, must stop
 * answering the old state: at once through the Redis invalidation channel, and within TOKEN_CACHE_MAX_AGE_MS of
 * its read when the channel loses the message or is cut (B reaches Redis through a TCP proxy).
 */
describe('token cache across two API processes', () => {
  let server: OAuthServer;
  let db: TestDatabase;
  let redisProxy: TcpProxy;
  const processes: VaultProcess[] = [];
  let apiA: TestApi['call'];
  let apiB: TestApi['call'];
  let metricsB: () => Promise<string>;
  let n = 0;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 3600 });
    db = await createTestDatabase();
    redisProxy = await startTcpProxy(hostPort(REDIS_URL, 6379));
    const env = {
      DATABASE_URL: db.url,
      REDIS_PREFIX: testRedisPrefix(),
      LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
      BOOTSTRAP_API_KEY: generateApiKey(),
      TOKEN_CACHE_MAX_AGE_MS: String(MAX_AGE_MS),
      PROVIDER_TIMEOUT_MS: '20000',
    };
    const [a, b] = await startVaultProcesses(
      [
        { kind: 'api', env: { ...env, REDIS_URL } },
        { kind: 'api', env: { ...env, REDIS_URL: redisProxy.url(REDIS_URL) } },
      ],
      processes,
    );
    if (!a || !b) throw new Error('two API processes expected');
    apiA = httpCaller(a.url, env.BOOTSTRAP_API_KEY);
    apiB = httpCaller(b.url, env.BOOTSTRAP_API_KEY);
    metricsB = async () => (await fetch(`${b.url}/metrics`)).text();
    await createIntegration({ call: apiA }, oidcIntegration(server));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await redisProxy?.close();
    await server?.close();
    await db?.drop();
  });

  const cacheCount = async (result: 'hit' | 'miss' | 'bypass') => {
    const line = new RegExp(`^vault_token_cache_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`, 'm');
    return Number(line.exec(await metricsB())?.[1] ?? 0);
  };

  /** A connection imported on A with a valid access token, and its refresh token at the provider. */
  const importOnA = async () => {
    n += 1;
    const refreshToken = await server.mintRefreshToken(`cache-u${n}`);
    const res = await apiA('POST', '/v1/connections', {
      integration: 'oidc',
      tenant_id: 'tenant-1',
      external_id: `cache-c${n}`,
      refresh_token: refreshToken,
      access_token: `seeded-${n}`,
      expires_in: 3600,
    });
    if (res.status !== 201) throw new Error(`import: ${res.status} ${res.raw}`);
    return { id: res.body.id as string, refreshToken, accessToken: `seeded-${n}` };
  };
  const tokenOnB = (id: string) => apiB('GET', `/v1/connections/${id}/token?min_ttl=60`);

  /**
   * B reads the token twice: the second answer comes from its cache (the hit counter moves). Returns when the
   * cached entry's database read ended at the latest (`readEnded`), which bounds when it expires.
   */
  const warmB = async (id: string, expected: string) => {
    const hits = await cacheCount('hit');
    const first = await tokenOnB(id);
    const readEnded = Date.now();
    const second = await tokenOnB(id);
    expect([first.body.access_token, second.body.access_token]).toEqual([expected, expected]);
    expect(await cacheCount('hit')).toBe(hits + 1);
    return readEnded;
  };

  /** Polls B until `changed` holds; every answer with the time its request was sent. */
  const pollB = async (id: string, changed: (a: Answer) => boolean, timeoutMs: number) => {
    const seen: { sentAt: number; answer: Answer }[] = [];
    await waitFor(
      'B to answer the new state',
      async () => {
        const sentAt = Date.now();
        const answer = await tokenOnB(id);
        seen.push({ sentAt, answer });
        return changed(answer);
      },
      timeoutMs,
      20,
    );
    return seen;
  };

  describe('with the invalidation channel up, B follows a write on A long before the maximum age', () => {
    const followsAtOnce = async (
      write: (c: { id: string; refreshToken: string }) => Promise<void>,
      changed: (a: Answer) => boolean,
    ) => {
      const c = await importOnA();
      const warmStart = Date.now();
      await warmB(c.id, c.accessToken);
      await write(c);
      const seen = await pollB(c.id, changed, MAX_AGE_MS);
      // Seen changed before the entry could have expired: the message did it.
      expect((seen[seen.length - 1]?.sentAt ?? Infinity) - warmStart).toBeLessThan(MAX_AGE_MS);
    };

    it('delete: B answers 404', async () => {
      await followsAtOnce(
        async ({ id }) => {
          expect((await apiA('DELETE', `/v1/connections/${id}`)).status).toBe(200);
        },
        (a) => a.status === 404,
      );
    });

    it('refresh: B serves the new access token', async () => {
      let fresh = '';
      await followsAtOnce(
        async ({ id }) => {
          const res = await apiA('POST', `/v1/connections/${id}/refresh`);
          expect(res.body.outcome).toBe('success');
          fresh = (await apiA('GET', `/v1/connections/${id}/token`)).body.access_token as string;
        },
        (a) => a.status === 200 && a.body.access_token === fresh,
      );
      expect(await server.accepts(fresh)).toBe(true);
    });

    it('flagged needs_reauth (the provider answered invalid_grant): B answers 409 reauth_required', async () => {
      await followsAtOnce(
        async ({ id, refreshToken }) => {
          await server.revoke(refreshToken);
          const res = await apiA('POST', `/v1/connections/${id}/refresh`);
          expect(res.body.outcome).toBe('reauth_required');
        },
        (a) => a.status === 409 && a.body.error === 'reauth_required',
      );
    });

    it('revoked (POST .../revoke): B answers 409 connection_revoked', async () => {
      await followsAtOnce(
        async ({ id }) => {
          expect((await apiA('POST', `/v1/connections/${id}/revoke`)).status).toBe(200);
        },
        (a) => a.status === 409 && a.body.error === 'connection_revoked',
      );
    });

    it('grant replaced: B serves the access token of the new grant', async () => {
      await followsAtOnce(
        async ({ id }) => {
          const res = await apiA('PUT', `/v1/connections/${id}/grant`, {
            refresh_token: await server.mintRefreshToken('cache-regrant'),
            access_token: 'after-re-consent',
            expires_in: 3600,
          });
          expect(res.status).toBe(200);
        },
        (a) => a.status === 200 && a.body.access_token === 'after-re-consent',
      );
    });
  });

  describe('with the invalidation channel failing, B still stops within the maximum age', () => {
    afterEach(async () => {
      // Bytes dropped mid-stream leave RESP out of step: reconnect B cleanly, and wait until its cache is on.
      redisProxy.cut();
      redisProxy.restore();
      const probe = await importOnA();
      await waitFor(
        'B subscribed again',
        async () => {
          const hits = await cacheCount('hit');
          await tokenOnB(probe.id);
          await tokenOnB(probe.id);
          return (await cacheCount('hit')) > hits;
        },
        30_000,
        200,
      );
    });

    /**
     * Warms B, breaks its channel (`fault`), deletes on A, and polls B past the maximum age: every answer to a
     * request sent once B's entry must have expired is 404. Returns all of B's answers after the delete.
     */
    const deleteWhileBroken = async (fault: () => void) => {
      const c = await importOnA();
      const readEnded = await warmB(c.id, c.accessToken);
      fault();
      expect((await apiA('DELETE', `/v1/connections/${c.id}`)).status).toBe(200);
      const bound = readEnded + MAX_AGE_MS;
      const seen = await pollB(
        c.id,
        (a) => a.status === 404 && Date.now() > bound + 200,
        MAX_AGE_MS + 10_000,
      );
      const afterBound = seen.filter((s) => s.sentAt > bound);
      expect(afterBound.length).toBeGreaterThan(0);
      expect(afterBound.filter((s) => s.answer.status !== 404).map((s) => s.answer.status)).toEqual([]);
      return { seen, accessToken: c.accessToken };
    };

    it('messages lost on a connection that looks healthy: B serves the old row until the entry expires, never later', async () => {
      const { seen, accessToken } = await deleteWhileBroken(() => redisProxy.drop());
      // The message was lost: B answered the deleted connection from its cache for a while.
      expect(seen[0]?.answer.body.access_token).toBe(accessToken);
    });

    it('Redis connection cut: B turns its cache off at once, and reads through until it is subscribed again', async () => {
      const bypassed = await cacheCount('bypass');
      const { seen } = await deleteWhileBroken(() => redisProxy.cut());
      // B noticed the closed connection and read PostgreSQL instead of its cache, from the first answer on.
      expect(await cacheCount('bypass')).toBeGreaterThan(bypassed);
      expect(seen.filter((s) => s.answer.status !== 404)).toEqual([]);
    });
  });
});
