import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { startTestApi, type TestApi } from '../utils/api';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import {
  createIntegration,
  importStale,
  peerIntegration,
  query,
  startInProcessWorker,
} from '../utils/refresh-fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Design 6b: what a provider says may slow the vault down, within bounds; reads cannot make it loop. */
describe('provider answers are bounded', () => {
  const KNOBS = {
    RATE_LIMIT_MAX_WAIT_SECONDS: '120',
    MIN_REFRESH_INTERVAL_SECONDS: '10',
    PROVIDER_TIMEOUT_MS: '5000',
  };
  let server: OAuthServer;
  let api: TestApi;
  let worker: INestApplication | undefined;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: false, accessTokenTtl: 600 });
    api = await startTestApi(KNOBS);
    await createIntegration(
      api,
      peerIntegration(server, 'slow', 'oauth2', { client_auth: 'client_secret_post' }),
    );
    await createIntegration(
      api,
      peerIntegration(server, 'zero', 'oauth2', { client_auth: 'client_secret_post' }),
    );
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await server?.close();
  });

  it('a 429 with Retry-After: 31536000 puts the connection and the integration off by RATE_LIMIT_MAX_WAIT_SECONDS at most', async () => {
    const id = await importStale(api, 'slow', await server.mintRefreshToken('slow'), 'slow');
    server.faults.push({ status: 429, headers: { 'retry-after': '31536000' }, body: { error: 'slow_down' } });

    const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(forced.body).toMatchObject({ outcome: 'rate_limited', called_provider: true, retry_after: 120 });
    const [row] = await query<{ in_s: number }>(
      api.db.url,
      `SELECT extract(epoch FROM next_refresh_at - now())::float8 AS in_s FROM connections WHERE id = $1`,
      [id],
    );
    expect(row?.in_s).toBeLessThanOrEqual(120);
    const [integration] = await query<{ id: string }>(
      api.db.url,
      `SELECT id FROM integrations WHERE key = 'slow'`,
    );
    const redis = new Redis(api.config.REDIS_URL);
    try {
      const pttl = await redis.pttl(`${api.config.REDIS_PREFIX}:ratelimit:${integration?.id}`);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(120_000);
    } finally {
      redis.disconnect();
    }
  });

  it('an answer whose token_type and scope hold a NUL byte is stored (without it), not lost to a failing write', async () => {
    await createIntegration(
      api,
      peerIntegration(server, 'nul', 'oauth2', { client_auth: 'client_secret_post' }),
    );
    const id = await importStale(api, 'nul', await server.mintRefreshToken('nul'), 'nul');
    server.faults.push({
      status: 200,
      body: {
        access_token: 'at-nul',
        token_type: 'bea\u0000rer',
        scope: 'read\u0000 write',
        expires_in: 600,
      },
    });
    const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(forced.body).toMatchObject({ outcome: 'success', called_provider: true });
    const read = await api.call('GET', `/v1/connections/${id}/token`);
    expect(read.body).toMatchObject({
      access_token: 'at-nul',
      token_type: 'Bearer',
      scopes: ['read', 'write'],
    });
  });

  it('an expires_in of 0, with the worker sweeping and reads asking min_ttl=60 all along: at most one provider call per MIN_REFRESH_INTERVAL_SECONDS in 30 s', async () => {
    const id = await importStale(api, 'zero', await server.mintRefreshToken('zero'), 'zero');
    for (let i = 0; i < 500; i++)
      server.faults.push({
        status: 200,
        body: { access_token: `at-${i}`, token_type: 'Bearer', expires_in: 0 },
      });
    worker = await startInProcessWorker(api, {
      ...KNOBS,
      SWEEP_INTERVAL_MS: '200',
      SWEEP_LOOKAHEAD_SECONDS: '1',
    });
    const calls = server.tokenCalls;

    const answers: { status: number; error?: string; reason?: string }[] = [];
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const read = await api.call('GET', `/v1/connections/${id}/token?min_ttl=60`);
      answers.push({ status: read.status, error: read.body?.error, reason: read.body?.reason });
      await sleep(250);
    }
    server.faults.length = 0;

    const made = server.tokenCalls - calls;
    expect(made).toBeGreaterThanOrEqual(2);
    expect(made).toBeLessThanOrEqual(30 / 10 + 2);
    // Reads get a clear answer: 503 provider_unavailable, with the reason and when to come back.
    expect(answers.filter((a) => a.status !== 503)).toEqual([]);
    expect(answers).toContainEqual({
      status: 503,
      error: 'provider_unavailable',
      reason: 'min_refresh_interval',
    });
    const [row] = await query<{ status: string }>(
      api.db.url,
      `SELECT status FROM connections WHERE id = $1`,
      [id],
    );
    expect(row?.status).not.toBe('needs_reauth');
  });
});
