import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@vault/core';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../utils/database';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { startVaultProcess, type VaultProcess } from '../utils/processes';
import {
  createIntegration,
  oidcIntegration,
  httpCaller,
  importStale,
  query,
  waitFor,
} from '../utils/refresh-fixtures';
import type { TestApi } from '../utils/api';

/**
 * Real vault processes (two APIs, two workers) sharing one PostgreSQL database, one Redis prefix and one
 * master key, against a rotating authorization server with reuse detection: a refresh done twice anywhere
 * (two workers, a worker and a reader, two API processes) shows up as an extra token call or a reuse.
 */
describe('refresh across several API and worker processes', () => {
  let server: OAuthServer;
  let db: TestDatabase;
  const processes: VaultProcess[] = [];
  /** One HTTP caller per API process. */
  let apiA: TestApi['call'];
  let apiB: TestApi['call'];
  const viaApi = (i: number) => (i % 2 === 0 ? apiA : apiB);

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      REDIS_PREFIX: testRedisPrefix(),
      LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
      BOOTSTRAP_API_KEY: generateApiKey(),
      SWEEP_INTERVAL_MS: '200',
      // Long enough that a provider slowed down by a loaded CI machine is not given up on: on a rotating
      // provider without a grace period, a timed-out call is a lost rotation (docs/providers.md, rule 5) and the
      // next attempt would rightly end in needs_reauth, which is not what this file is about.
      PROVIDER_TIMEOUT_MS: '20000',
      REFRESH_MARGIN_SECONDS: '10',
    };
    // Keep every process that did start, so afterAll stops them even when another one failed to.
    const started = await Promise.allSettled(
      (['api', 'api', 'worker', 'worker'] as const).map((kind) => startVaultProcess(kind, env)),
    );
    for (const s of started) if (s.status === 'fulfilled') processes.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [a, b] = processes.filter((p) => p.kind === 'api');
    if (!a || !b) throw new Error('two API processes expected');
    apiA = httpCaller(a.url, env.BOOTSTRAP_API_KEY);
    apiB = httpCaller(b.url, env.BOOTSTRAP_API_KEY);
    await createIntegration({ call: apiA }, oidcIntegration(server));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await server?.close();
    await db?.drop();
  });

  it('the same 50×20 scenario with two API processes and two workers', async () => {
    const callsBefore = server.tokenCalls;
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => server.mintRefreshToken(`mp-u${i}`)),
    );
    // Stale connections are due at once: the workers' sweeps race the readers below, which is the point.
    const ids = await Promise.all(
      tokens.map((rt, i) => importStale({ call: viaApi(i) }, 'oidc', rt, `mp-c${i}`)),
    );

    const answers = await Promise.all(
      ids.flatMap((id) =>
        Array.from({ length: 20 }, (_, k) => viaApi(k)('GET', `/v1/connections/${id}/token?min_ttl=30`)),
      ),
    );

    expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.raw}`)).toEqual([]);
    const byConnection = new Map<string, Set<string>>();
    for (const a of answers) {
      const id = a.body.connection_id as string;
      const set = byConnection.get(id) ?? new Set<string>();
      set.add(a.body.access_token as string);
      byConnection.set(id, set);
    }
    expect([...byConnection.keys()].sort()).toEqual([...ids].sort());
    const distinct = [...byConnection.values()].flatMap((s) => [...s]);
    for (const token of distinct) expect(await server.accepts(token)).toBe(true);
    // One refresh per connection, whoever did it: each connection was served a single access token.
    expect(distinct).toHaveLength(50);
    expect(server.tokenCalls - callsBefore).toBe(50);
    expect(server.reuseDetections).toBe(0);

    const journal = await query<{ outcome: string; n: number }>(
      db.url,
      `SELECT outcome, count(*)::int AS n FROM refresh_attempts WHERE connection_id = ANY($1::uuid[])
       GROUP BY outcome`,
      [ids],
    );
    expect(journal).toEqual([{ outcome: 'success', n: 50 }]);
    const statuses = await query<{ status: string; n: number }>(
      db.url,
      `SELECT status, count(*)::int AS n FROM connections WHERE id = ANY($1::uuid[]) GROUP BY status`,
      [ids],
    );
    expect(statuses).toEqual([{ status: 'active', n: 50 }]);
  });

  it('a connection expiring in 20 s is refreshed before expiry with no read', async () => {
    const callsBefore = server.tokenCalls;
    const reuseBefore = server.reuseDetections;
    const imported = await apiB('POST', '/v1/connections', {
      integration: 'oidc',
      tenant_id: 'tenant-1',
      external_id: 'expiring-soon',
      refresh_token: await server.mintRefreshToken('expiring-soon'),
      access_token: 'seeded-access-token',
      expires_in: 20,
    });
    expect(imported.status).toBe(201);
    const id = imported.body.id as string;
    const original = await apiA('GET', `/v1/connections/${id}`);
    expect(original.body.last_refreshed_at).toBeNull();
    const originalExpiry = new Date(original.body.access_token_expires_at as string).getTime();
    const dueAt = new Date(original.body.next_refresh_at as string).getTime();
    expect(originalExpiry - Date.now()).toBeGreaterThan(15_000);

    // No read of the token: only the workers' schedule can refresh it.
    const refreshed = await waitFor(
      'the scheduled refresh',
      async () => {
        const c = await apiA('GET', `/v1/connections/${id}`);
        return c.body.last_refreshed_at ? c.body : null;
      },
      25_000,
      200,
    );
    const refreshedAt = new Date(refreshed.last_refreshed_at as string).getTime();
    expect(refreshedAt).toBeLessThan(originalExpiry);
    // On its schedule (expiry − margin − jitter), give or take a batch's second and a sweep, not as soon as
    // a sweep saw it: refreshing whatever falls due within the lookahead re-refreshes short-lived tokens
    // at once, in a loop.
    expect(refreshedAt).toBeGreaterThanOrEqual(dueAt - 2_000);
    expect(new Date(refreshed.access_token_expires_at as string).getTime()).toBeGreaterThan(originalExpiry);
    expect(refreshed.status).toBe('active');

    const attempts = await query<{ trigger: string; outcome: string }>(
      db.url,
      `SELECT trigger, outcome FROM refresh_attempts WHERE connection_id = $1`,
      [id],
    );
    expect(attempts).toEqual([{ trigger: 'scheduled', outcome: 'success' }]);
    expect(server.tokenCalls - callsBefore).toBe(1);

    // The new token is served as it is (no second refresh) and the provider accepts it.
    const read = await apiB('GET', `/v1/connections/${id}/token?min_ttl=30`);
    expect(read.status).toBe(200);
    expect(read.body.access_token).not.toBe('seeded-access-token');
    expect(await server.accepts(read.body.access_token as string)).toBe(true);
    expect(server.tokenCalls - callsBefore).toBe(1);
    expect(server.reuseDetections - reuseBefore).toBe(0);
  });
});
