import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startTestApi, type TestApi } from '../utils/api';
import { startOAuthServer, type Fault, type OAuthServer } from '../utils/oauth-server';
import {
  createIntegration,
  oidcIntegration,
  eventTypes,
  importStale,
  importValid,
  startInProcessWorker,
  waitFor,
} from '../utils/refresh-fixtures';

/**
 * Provider trouble (5xx, garbage, a hang past the timeout, a 30 s outage) against a real authorization server
 * (oidc-provider): transient failures never flag a connection for re-consent, reads answer 503 with a
 * Retry-After, and everything recovers once the provider is back.
 */

const KNOBS = {
  REFRESH_BACKOFF_BASE_SECONDS: '1',
  REFRESH_BACKOFF_MAX_SECONDS: '3',
  PROVIDER_TIMEOUT_MS: '1000',
};

function expect503(res: Awaited<ReturnType<TestApi['call']>>): void {
  expect(res.status).toBe(503);
  expect(res.body.error).toBe('provider_unavailable');
  expect(typeof res.body.retry_after).toBe('number');
  expect(res.body.retry_after).toBeGreaterThanOrEqual(1);
  expect(res.headers['retry-after']).toBe(String(res.body.retry_after));
}

describe('transient provider failures', () => {
  let server: OAuthServer;
  let api: TestApi;

  beforeAll(async () => {
    // Not rotating: a hang that was processed by the server loses no grant, so only the classification shows.
    server = await startOAuthServer({ rotate: false, accessTokenTtl: 600 });
    api = await startTestApi(KNOBS);
    await createIntegration(api, oidcIntegration(server));
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
  });

  const cases: { name: string; fault: Fault; code: string; httpStatus: number | null }[] = [
    {
      name: '503 HTML',
      fault: { status: 503, body: '<html>busy</html>' },
      code: 'http_503',
      httpStatus: 503,
    },
    {
      name: '500 JSON server_error',
      fault: { status: 500, body: { error: 'server_error' } },
      code: 'server_error',
      httpStatus: 500,
    },
    // The adapter classifies a non-JSON body as transient (docs/providers.md, cross-provider rule 1), not provider_error.
    { name: 'garbage body', fault: { garbage: true }, code: 'non_json_body', httpStatus: 200 },
    { name: 'hang past the timeout', fault: { hangMs: 2500 }, code: 'timeout', httpStatus: null },
  ];

  it.each(cases)(
    '$name → transient: active while the token is valid, refresh_failing once expired, 503 on read, never needs_reauth',
    async ({ name, fault, code, httpStatus }) => {
      const tag = name.replace(/\W+/g, '-');
      const valid = await importValid(api, 'oidc', await server.mintRefreshToken(), `valid-${tag}`, 600);
      const stale = await importStale(api, 'oidc', await server.mintRefreshToken(), `stale-${tag}`);
      const before = server.tokenCalls;

      // A forced refresh of a connection whose access token is still valid.
      server.faults.push(fault);
      const forced = await api.call('POST', `/v1/connections/${valid}/refresh`);
      expect(forced.body).toMatchObject({ outcome: 'transient', status: 'active', called_provider: true });
      expect(forced.body.retry_after).toBeGreaterThanOrEqual(1);
      // A read that needs more than the token has left: it cannot be served, but the token is not dead yet.
      // The provider failed a moment ago, so the read does not ask it again (reads share one try per 5 s).
      const callsBeforeRead = server.tokenCalls;
      expect503(await api.call('GET', `/v1/connections/${valid}/token?min_ttl=3600`));
      expect(server.tokenCalls).toBe(callsBeforeRead);
      const validConn = (await api.call('GET', `/v1/connections/${valid}`)).body;
      expect(validConn).toMatchObject({ status: 'active', status_reason: null, refresh_failures: 1 });
      expect(validConn.last_error).toMatchObject({ class: 'transient', code, http_status: httpStatus });
      // ...and a read with the default min_ttl still gets the stored token without calling the provider.
      const served = await api.call('GET', `/v1/connections/${valid}/token`);
      expect(served.status).toBe(200);
      expect(served.body.access_token).toBe(`valid-valid-${tag}`);

      // The same failure on a connection whose access token has expired.
      server.faults.push(fault);
      expect503(await api.call('GET', `/v1/connections/${stale}/token`));
      const staleConn = (await api.call('GET', `/v1/connections/${stale}`)).body;
      expect(staleConn).toMatchObject({ status: 'refresh_failing', status_reason: `transient:${code}` });
      expect(Date.parse(staleConn.next_refresh_at as string)).toBeGreaterThan(Date.now());

      expect(server.tokenCalls - before).toBe(2);
      expect(server.faults).toHaveLength(0);
      for (const id of [valid, stale]) {
        const types = await eventTypes(api, id);
        expect(types).toContain('refresh_failed');
        expect(types).not.toContain('needs_reauth');
      }

      // The provider answers again: both recover with tokens the server accepts.
      for (const id of [stale, valid]) {
        const forcedOk = await api.call('POST', `/v1/connections/${id}/refresh`);
        expect(forcedOk.body).toMatchObject({ outcome: 'success', status: 'active', called_provider: true });
        const read = await api.call('GET', `/v1/connections/${id}/token`);
        expect(read.status).toBe(200);
        expect(await server.accepts(read.body.access_token as string)).toBe(true);
        expect((await api.call('GET', `/v1/connections/${id}`)).body).toMatchObject({
          status: 'active',
          refresh_failures: 0,
          last_error: null,
        });
      }
      expect(server.reuseDetections).toBe(0);
    },
  );
});

describe('a provider down for a while (OUTAGE_SECONDS, default 30)', () => {
  const outageMs = Number(process.env.OUTAGE_SECONDS ?? 30) * 1000;
  let server: OAuthServer;
  let api: TestApi;
  let worker: NestFastifyApplication | undefined;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    api = await startTestApi(KNOBS);
    await createIntegration(api, oidcIntegration(server));
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await server?.close();
  });

  it('nothing is flagged, reads answer 503 meanwhile, and everything recovers', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push(await importStale(api, 'oidc', await server.mintRefreshToken(`u${i}`), `c${i}`));
    server.outage = true;
    const outageEnds = Date.now() + outageMs;

    worker = await startInProcessWorker(api, { ...KNOBS, SWEEP_INTERVAL_MS: '200' });

    // The worker keeps trying and failing: every connection ends up refresh_failing, none needs_reauth.
    await waitFor(
      'every connection to be refresh_failing',
      async () => {
        const res = await api.call('GET', '/v1/connections?status=refresh_failing&limit=100');
        return res.body.data.length === ids.length;
      },
      Math.max(5_000, outageMs - 2_000),
    );
    const callsDuringOutage = server.tokenCalls;
    expect(callsDuringOutage).toBeGreaterThanOrEqual(ids.length);

    // Reads during the outage: 503 with a Retry-After, never 409.
    for (const id of ids) expect503(await api.call('GET', `/v1/connections/${id}/token`));
    while (Date.now() < outageEnds) {
      const res = await api.call('GET', `/v1/connections/${ids[0]}/token`);
      expect(res.status).toBe(503);
      expect((await api.call('GET', '/v1/connections?status=needs_reauth')).body.data).toEqual([]);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Retries are spaced by the backoff (at most 3 s here), not a busy loop.
    expect(server.tokenCalls - callsDuringOutage).toBeLessThan(ids.length * (outageMs / 1000 + 5));
    server.outage = false;

    // The worker brings every connection back on its own, without a read.
    await waitFor(
      'every connection to be active again',
      async () => {
        const res = await api.call('GET', '/v1/connections?status=active&limit=100');
        return res.body.data.length === ids.length;
      },
      15_000,
    );
    for (const id of ids) {
      const read = await api.call('GET', `/v1/connections/${id}/token?min_ttl=300`);
      expect(read.status).toBe(200);
      expect(await server.accepts(read.body.access_token as string)).toBe(true);
      const types = await eventTypes(api, id);
      expect(types).not.toContain('needs_reauth');
      expect(types).toContain('refresh_failed');
      expect(types[0]).toBe('refreshed');
    }
    expect((await api.call('GET', '/v1/connections?status=needs_reauth')).body.data).toEqual([]);
    expect((await api.call('GET', '/v1/connections?status=refresh_failing')).body.data).toEqual([]);
    expect(server.reuseDetections).toBe(0);
  });
});
