import { Redis } from 'ioredis';
import { RefreshService } from '@vault/core';
import { startTestApi, type TestApi } from '../utils/api';
import { PG_ADMIN_URL } from '../utils/database';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { createIntegration, importStale, query, waitFor } from '../utils/refresh-fixtures';
import { hostPort, startTcpProxy, type TcpProxy } from '../utils/tcp-proxy';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Design 6b, "a rotated refresh token is never lost to a failure of ours": against a provider that rotates
 * refresh tokens and revokes the whole grant when a used one comes back, so a lost rotation shows up as a
 * reuse detection and a flagged connection.
 */
describe('no rotated refresh token lost to our own failure', () => {
  /** Lock TTL = 2 s + 5 s of margin: shorter than the outage below, so only renewal keeps the lock. */
  const PROVIDER_TIMEOUT_MS = 2000;
  let server: OAuthServer;
  let proxy: TcpProxy;
  let api: TestApi;
  let redis: Redis;

  /** vault_refresh_unstored_tokens as the API's /metrics answers it. */
  const unstored = async (): Promise<number> => {
    const text = (await api.call('GET', '/metrics', undefined, null)).raw;
    const line = text.split('\n').find((l) => l.startsWith('vault_refresh_unstored_tokens'));
    return Number(line?.split(' ').pop());
  };
  const versionOf = async (id: string) =>
    (await query<{ version: number }>(api.db.url, `SELECT version FROM connections WHERE id = $1`, [id]))[0]
      ?.version ?? -1;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    proxy = await startTcpProxy(hostPort(PG_ADMIN_URL, 5432));
    api = await startTestApi(
      { PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS) },
      { databaseUrl: (url) => proxy.url(url) },
    );
    redis = new Redis(api.config.REDIS_URL, { lazyConnect: true });
    await redis.connect();
    await createIntegration(api, {
      key: 'oidc',
      provider: 'oauth2',
      client_id: server.clientId,
      client_secret: server.clientSecret,
      token_url: server.tokenUrl,
      client_auth: 'client_secret_post',
      request_timeout_ms: 20_000,
    });
  });
  afterAll(async () => {
    proxy?.restore();
    redis?.disconnect();
    await api?.close();
    await proxy?.close();
    await server?.close();
  });

  it('PostgreSQL cut while the provider rotates: 503 at once, the answer is written once PostgreSQL is back, the lock held all along, nothing flagged, the next refresh presents the new token', async () => {
    const id = await importStale(api, 'oidc', await server.mintRefreshToken('pg-cut'), 'pg-cut');
    const version = await versionOf(id);
    const calls = server.tokenCalls;
    // The provider rotates, then its answer takes 1.5 s: PostgreSQL is cut meanwhile.
    server.faults.push({ hangMs: 1500 });
    const forced = api.call('POST', `/v1/connections/${id}/refresh`);
    await waitFor('the provider rotated', () => Promise.resolve(server.tokenCalls > calls), 10_000, 5);
    proxy.cut();

    const during = await forced;
    expect({ status: during.status, error: during.body?.error }).toEqual({
      status: 503,
      error: 'unavailable',
    });
    expect(during.headers['retry-after']).toBeDefined();
    // Operators see the answer held in memory (the VaultRefreshedTokensUnstored alert) while it is.
    expect(await unstored()).toBe(1);
    // Cut for 8 s, longer than the lock's TTL (7 s): the lock is still ours at the end of it.
    await sleep(8_000);
    expect(await redis.pttl(`${api.config.REDIS_PREFIX}:lock:${id}`)).toBeGreaterThan(0);
    expect(await unstored()).toBe(1);
    proxy.restore();

    await waitFor('the rotated token written', async () => (await versionOf(id)) > version, 30_000, 100);
    expect(await unstored()).toBe(0);
    const [row] = await query<{ status: string; last_error: unknown }>(
      api.db.url,
      `SELECT status, last_error FROM connections WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ status: 'active', last_error: null });
    expect(server.tokenCalls - calls).toBe(1);

    const next = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(next.body).toMatchObject({ outcome: 'success', called_provider: true, status: 'active' });
    expect(server.reuseDetections).toBe(0);
    const read = await api.call('GET', `/v1/connections/${id}/token?min_ttl=30`);
    expect(read.status).toBe(200);
    expect(await server.accepts(read.body.access_token as string)).toBe(true);
  });

  it('a scheduled batch of 20 with one deleted during the provider call: the 19 others keep their rotated tokens', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(await importStale(api, 'oidc', await server.mintRefreshToken(`b${i}`), `batch-${i}`));
    const deleted = ids[7] ?? '';
    const kept = ids.filter((id) => id !== deleted);
    const versions = new Map(await Promise.all(ids.map(async (id) => [id, await versionOf(id)] as const)));
    const calls = server.tokenCalls;
    for (let i = 0; i < 20; i++) server.faults.push({ hangMs: 1000 });

    const batch = api.app.get(RefreshService).refreshScheduledBatch(ids);
    await waitFor('all 20 rotated', () => Promise.resolve(server.tokenCalls - calls >= 20), 10_000, 5);
    await query(api.db.url, `DELETE FROM connections WHERE id = $1`, [deleted]);
    const outcomes = await batch;

    expect(outcomes.filter((o, i) => ids[i] !== deleted && o === 'success')).toHaveLength(19);
    for (const id of kept) expect(await versionOf(id)).toBe((versions.get(id) ?? 0) + 1);
    const forced = await Promise.all(kept.map((id) => api.call('POST', `/v1/connections/${id}/refresh`)));
    expect(forced.map((f) => f.body.outcome)).toEqual(kept.map(() => 'success'));
    expect(server.reuseDetections).toBe(0);
    const flagged = await query(api.db.url, `SELECT id FROM connections WHERE status <> 'active'`);
    expect(flagged).toEqual([]);
  });

  it('each lock lives as long as its own work: a quick answer is written while a slow neighbour is still calling', async () => {
    const [fast, slow] = [
      await importStale(api, 'oidc', await server.mintRefreshToken('lk-a'), 'lock-a'),
      await importStale(api, 'oidc', await server.mintRefreshToken('lk-b'), 'lock-b'),
    ];
    const before = new Map([
      [fast, await versionOf(fast)],
      [slow, await versionOf(slow)],
    ]);
    // Whichever call arrives first takes 9 s to answer (longer than the default lock TTL of 7 s).
    server.faults.push({ hangMs: 9_000 });
    const started = Date.now();
    const batch = api.app.get(RefreshService).refreshScheduledBatch([fast, slow]);

    const quick = await waitFor(
      'one of the two written',
      async () => {
        for (const id of [fast, slow]) if ((await versionOf(id)) > (before.get(id) ?? 0)) return id;
        return null;
      },
      8_000,
      50,
    );
    expect(Date.now() - started).toBeLessThan(8_000);
    const waiting = quick === fast ? slow : fast;
    await sleep(Math.max(0, started + 7_500 - Date.now()));
    expect(await redis.pttl(`${api.config.REDIS_PREFIX}:lock:${waiting}`)).toBeGreaterThan(0);
    expect(await redis.exists(`${api.config.REDIS_PREFIX}:lock:${quick}`)).toBe(0);

    expect(await batch).toEqual(['success', 'success']);
    expect(server.reuseDetections).toBe(0);
  });

  it('recovery closes open attempts older than the lock as interrupted, and leaves a younger one (a refresher still at work) alone', async () => {
    const old = await importStale(api, 'oidc', await server.mintRefreshToken('rec-old'), 'rec-old');
    const young = await importStale(api, 'oidc', await server.mintRefreshToken('rec-young'), 'rec-young');
    await query(
      api.db.url,
      `INSERT INTO refresh_attempts (id, connection_id, trigger, connection_version, refresh_token_fingerprint, started_at)
       VALUES (gen_random_uuid(), $1, 'scheduled', 1, 'fp', now() - interval '1 hour'),
              (gen_random_uuid(), $2, 'scheduled', 1, 'fp', now())`,
      [old, young],
    );
    const calls = server.tokenCalls;

    const oldAnswer = await api.call('POST', `/v1/connections/${old}/refresh`);
    expect(oldAnswer.body).toMatchObject({ outcome: 'success', called_provider: true });
    const youngAnswer = await api.call('POST', `/v1/connections/${young}/refresh`);
    expect(youngAnswer.body).toMatchObject({ outcome: 'transient', called_provider: false });
    expect(youngAnswer.body.retry_after).toBeGreaterThan(0);
    expect(server.tokenCalls - calls).toBe(1);

    const journal = await query<{ connection_id: string; outcome: string | null }>(
      api.db.url,
      `SELECT connection_id, outcome FROM refresh_attempts WHERE connection_id = ANY($1::uuid[])
       ORDER BY connection_id = $2 DESC, started_at`,
      [[old, young], old],
    );
    expect(journal).toEqual([
      { connection_id: old, outcome: 'interrupted' },
      { connection_id: old, outcome: 'success' },
      { connection_id: young, outcome: null },
    ]);
  });
});
