import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@vault/core';
import type { TestApi } from '../utils/api';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../utils/database';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { startVaultProcess, type VaultProcess } from '../utils/processes';
import {
  createIntegration,
  oidcIntegration,
  deleteRedisKeys,
  importStale,
  query,
  startInProcessApi,
  waitFor,
} from '../utils/refresh-fixtures';

/** The vault's default Redis (loadConfig's REDIS_URL default), which the spawned processes use too. */
const REDIS_URL = 'redis://127.0.0.1:6379';

interface Env extends Record<string, string> {
  DATABASE_URL: string;
  REDIS_PREFIX: string;
}

/** A fresh database, Redis prefix, master key and bootstrap key, shared by every process of one scenario. */
async function sharedEnv(extra: Record<string, string>): Promise<{ db: TestDatabase; env: Env }> {
  const db = await createTestDatabase();
  return {
    db,
    env: {
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: testRedisPrefix(),
      LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
      BOOTSTRAP_API_KEY: generateApiKey(),
      ...extra,
    },
  };
}

type InProcessApi = { call: TestApi['call']; close(): Promise<void> };

describe('refresh recovery: a worker killed mid-refresh', () => {
  const N = 20;
  const PROVIDER_TIMEOUT_MS = 3000;
  /**
   * How long after the kill every connection must be settled: the dead worker's Redis locks expire
   * (2 × PROVIDER_TIMEOUT_MS + a margin, refresh.service.ts), then a new claim (lookahead 1 s + lease 2 s) and
   * a new worker's start; generous for a loaded CI machine.
   */
  const RECOVERY_BOUND_MS = 40_000;
  let server: OAuthServer;
  let db: TestDatabase;
  let env: Env;
  let api: InProcessApi;
  const workers: VaultProcess[] = [];

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    ({ db, env } = await sharedEnv({
      PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
      REFRESH_CLAIM_LEASE_SECONDS: '2',
      SWEEP_INTERVAL_MS: '200',
      SWEEP_LOOKAHEAD_SECONDS: '1',
    }));
    api = await startInProcessApi(env);
    await createIntegration(api, oidcIntegration(server));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await api?.close();
    await server?.close();
    await db?.drop();
  });

  it('kill -9 of a worker in the middle of refreshes', async () => {
    // Every answer comes 1.5 s late, although the provider processed the refresh (the rotation happened).
    for (let i = 0; i < N; i++) server.faults.push({ hangMs: 1500 });
    const callsBefore = server.tokenCalls;
    const reuseBefore = server.reuseDetections;
    const first = await startVaultProcess('worker', env);
    workers.push(first);

    // Kill as soon as the provider has rotated a grant whose answer is still on its way: the check is
    // synchronous and its 10 ms poll timer is due before any 1.5 s answer, so at least one rotation is lost.
    let killedAt = 0;
    const killed = waitFor(
      'a refresh processed by the provider',
      () => Promise.resolve(server.tokenCalls > callsBefore),
      30_000,
      10,
    ).then(() => {
      const kill = first.kill9();
      killedAt = Date.now();
      return kill;
    });
    // Stale connections are due at once: the running worker starts refreshing them while they arrive.
    const refreshTokens = await Promise.all(
      Array.from({ length: N }, (_, i) => server.mintRefreshToken(`k${i}`)),
    );
    const ids = await Promise.all(refreshTokens.map((rt, i) => importStale(api, 'oidc', rt, `k${i}`)));
    await killed;
    server.faults.length = 0;

    const [journalAtKill] = await query<{ open: number }>(
      db.url,
      `SELECT count(*)::int AS open FROM refresh_attempts WHERE finished_at IS NULL`,
    );
    const open = journalAtKill?.open ?? 0;
    expect(open).toBeGreaterThan(0);

    workers.push(await startVaultProcess('worker', env));
    // Settled: flagged for re-consent, or active with a token valid for a while.
    const settled = await waitFor(
      'every connection settled',
      async () => {
        const rows = await query<{
          id: string;
          status: string;
          status_reason: string | null;
          valid_ms: number | null;
        }>(
          db.url,
          `SELECT id, status, status_reason,
                  (extract(epoch FROM access_token_expires_at - now()) * 1000)::float8 AS valid_ms
           FROM connections WHERE id = ANY($1::uuid[])`,
          [ids],
        );
        const done = rows.every(
          (r) => r.status === 'needs_reauth' || (r.status === 'active' && (r.valid_ms ?? 0) > 60_000),
        );
        return done ? rows : null;
      },
      90_000,
      250,
    );
    const recoveredInMs = Date.now() - killedAt;

    const active = settled.filter((r) => r.status === 'active');
    const flagged = settled.filter((r) => r.status === 'needs_reauth');
    expect(active.length + flagged.length).toBe(N);
    for (const r of flagged) expect(r.status_reason).toBe('invalid_grant');
    for (const r of active) {
      const read = await api.call('GET', `/v1/connections/${r.id}/token?min_ttl=30`);
      expect(read.status).toBe(200);
      expect(await server.accepts(read.body.access_token as string)).toBe(true);
    }

    const attempts = await query<{ connection_id: string; outcome: string | null }>(
      db.url,
      `SELECT connection_id, outcome FROM refresh_attempts WHERE connection_id = ANY($1::uuid[])`,
      [ids],
    );
    // Nothing is left open: the interrupted attempts were closed, and are visible as such in the journal.
    expect(attempts.filter((a) => a.outcome === null)).toEqual([]);
    const interrupted = attempts.filter((a) => a.outcome === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted.length).toBe(open);
    // At least one rotation was lost (see the kill above), and it was flagged, but no more than were lost:
    // each flagged connection had an interrupted attempt, and the provider saw each one's rotated refresh
    // token come back (a reuse detection), which is what a lost rotation is.
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.length).toBeLessThanOrEqual(interrupted.length);
    const interruptedIds = new Set(interrupted.map((a) => a.connection_id));
    for (const r of flagged) expect(interruptedIds.has(r.id)).toBe(true);
    expect(server.reuseDetections - reuseBefore).toBe(flagged.length);
    // Never looped on: one successful call per active connection; the lost one plus the one answered
    // invalid_grant for each flagged connection.
    expect(server.tokenCalls - callsBefore).toBe(N + flagged.length);

    // Recovery is bounded by the dead holder's locks and a lease, not by anything slower.
    expect(recoveredInMs).toBeLessThan(RECOVERY_BOUND_MS);
  });
});

describe('refresh recovery: Redis loses its keys', () => {
  const MARGIN = 2;
  const LOOKAHEAD = 15;
  const LEASE = 2;
  const SWEEP_INTERVAL_MS = 200;
  let server: OAuthServer;
  let db: TestDatabase;
  let env: Env;
  let api: InProcessApi;
  let worker: VaultProcess | undefined;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    ({ db, env } = await sharedEnv({
      REFRESH_MARGIN_SECONDS: String(MARGIN),
      SWEEP_LOOKAHEAD_SECONDS: String(LOOKAHEAD),
      REFRESH_CLAIM_LEASE_SECONDS: String(LEASE),
      SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      PROVIDER_TIMEOUT_MS: '10000',
    }));
    api = await startInProcessApi(env);
    await createIntegration(api, oidcIntegration(server));
    worker = await startVaultProcess('worker', env);
  });

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await server?.close();
    await db?.drop();
  });

  it('Redis flushed → schedules come back from PostgreSQL', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.call('POST', '/v1/connections', {
        integration: 'oidc',
        tenant_id: 'tenant-1',
        external_id: `f${i}`,
        refresh_token: await server.mintRefreshToken(`f${i}`),
        access_token: `seeded-${i}`,
        // Due in about 8 s: inside the lookahead, so the sweep parks a delayed job in Redis at once.
        expires_in: MARGIN + 8,
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id as string);
    }

    const claims = await waitFor('the sweep to claim every connection', async () => {
      const rows = await query<{
        id: string;
        due: Date;
        claimed_until: Date | null;
        last_refreshed_at: Date | null;
      }>(
        db.url,
        `SELECT id, next_refresh_at AS due, refresh_claimed_until AS claimed_until, last_refreshed_at
         FROM connections WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      return rows.every((r) => r.claimed_until !== null) ? rows : null;
    });
    const flushedAt = Date.now();
    expect(await deleteRedisKeys(REDIS_URL, env.REDIS_PREFIX)).toBeGreaterThan(0);
    // What Redis lost: claimed connections, not yet due, whose delayed jobs were parked there.
    expect(claims.filter((c) => c.last_refreshed_at !== null).map((c) => c.id)).toEqual([]);
    for (const c of claims) expect(c.due.getTime()).toBeGreaterThan(flushedAt);

    const refreshed = await waitFor(
      'every connection refreshed',
      async () => {
        const rows = await query<{ id: string; last_refreshed_at: Date | null }>(
          db.url,
          `SELECT id, last_refreshed_at FROM connections WHERE id = ANY($1::uuid[])`,
          [ids],
        );
        return rows.every((r) => r.last_refreshed_at !== null) ? rows : null;
      },
      (LEASE + LOOKAHEAD + MARGIN + 15) * 1000,
      250,
    );
    const claimedUntil = new Map(claims.map((c) => [c.id, (c.claimed_until as Date).getTime()]));
    for (const r of refreshed) {
      const at = (r.last_refreshed_at as Date).getTime();
      // The parked jobs were really gone (nothing ran at the due time): a new claim did it, once the old
      // lease had run out, and within lookahead + lease + margin of the flush.
      expect(at).toBeGreaterThanOrEqual((claimedUntil.get(r.id) as number) - 500);
      expect(at - flushedAt).toBeLessThan((LEASE + LOOKAHEAD + MARGIN) * 1000);
    }

    for (const id of ids) {
      const read = await api.call('GET', `/v1/connections/${id}/token?min_ttl=30`);
      expect(read.status).toBe(200);
      expect(read.body.access_token).not.toMatch(/^seeded-/);
      expect(await server.accepts(read.body.access_token as string)).toBe(true);
    }
    const journal = await query<{ trigger: string; outcome: string; n: number }>(
      db.url,
      `SELECT trigger, outcome, count(*)::int AS n FROM refresh_attempts GROUP BY 1, 2`,
    );
    expect(journal).toEqual([{ trigger: 'scheduled', outcome: 'success', n: ids.length }]);
    expect(server.reuseDetections).toBe(0);
  });
});
