import { startTestApi, type TestApi } from '../utils/api';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import {
  createIntegration,
  expectFlaggedInvalidGrant,
  importStale,
  oidcIntegration,
  query,
} from '../utils/refresh-fixtures';

/**
 * Against a real authorization server (oidc-provider) that rotates refresh tokens and revokes the whole grant
 * when a used refresh token comes back: any double refresh shows up as a reuse detection.
 */
describe('refresh against a rotating provider with reuse detection', () => {
  let server: OAuthServer;
  let api: TestApi;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    api = await startTestApi({ PROVIDER_TIMEOUT_MS: '5000' });
    await createIntegration(api, oidcIntegration(server));
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
  });

  it('50 stale connections × 20 concurrent reads: every read gets an accepted token, one call per connection, no reuse', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++)
      ids.push(await importStale(api, 'oidc', await server.mintRefreshToken(`u${i}`), `c${i}`));
    const callsBefore = server.tokenCalls;

    const reads = ids.flatMap((id) =>
      Array.from({ length: 20 }, () => api.call('GET', `/v1/connections/${id}/token?min_ttl=30`)),
    );
    const answers = await Promise.all(reads);

    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expect(server.tokenCalls - callsBefore).toBe(50);
    expect(server.reuseDetections).toBe(0);
    const distinct = new Map<string, string>();
    for (const a of answers) {
      const prev = distinct.get(a.body.connection_id as string);
      if (prev) expect(a.body.access_token).toBe(prev);
      distinct.set(a.body.connection_id as string, a.body.access_token as string);
    }
    expect(distinct.size).toBe(50);
    for (const token of distinct.values()) expect(await server.accepts(token)).toBe(true);

    // The rotated refresh tokens were kept: a second forced round works for every connection without reuse.
    const forced = await Promise.all(ids.map((id) => api.call('POST', `/v1/connections/${id}/refresh`)));
    expect(forced.map((f) => f.body.outcome)).toEqual(ids.map(() => 'success'));
    expect(server.reuseDetections).toBe(0);
    expect(server.tokenCalls - callsBefore).toBe(100);

    const journal = await query<{ outcome: string; n: number }>(
      api.db.url,
      `SELECT outcome, count(*)::int AS n FROM refresh_attempts GROUP BY outcome`,
    );
    expect(journal).toEqual([{ outcome: 'success', n: 100 }]);
  });

  it('flags a revoked grant for re-consent on the first attempt and never calls the provider for it again', async () => {
    const rt = await server.mintRefreshToken('revoked-user');
    const id = await importStale(api, 'oidc', rt, 'revoked');
    await server.revoke(rt);
    const before = server.tokenCalls;

    const read = await api.call('GET', `/v1/connections/${id}/token`);
    expect(read.status).toBe(409);
    expect(read.body).toMatchObject({ error: 'reauth_required', reason: 'invalid_grant' });
    expect(server.tokenCalls - before).toBe(1);

    await expectFlaggedInvalidGrant(api, id);

    for (let i = 0; i < 3; i++) {
      expect((await api.call('GET', `/v1/connections/${id}/token`)).status).toBe(409);
      expect((await api.call('POST', `/v1/connections/${id}/refresh`)).body).toMatchObject({
        outcome: 'reauth_required',
        status: 'needs_reauth',
        called_provider: false,
      });
    }
    expect(server.tokenCalls - before).toBe(1);

    const events = await api.call('GET', `/v1/connections/${id}/events`);
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['needs_reauth', 'created']);
    const listed = await api.call('GET', '/v1/connections?status=needs_reauth');
    expect(listed.body.data.map((c: { id: string }) => c.id)).toContain(id);
    const metrics = await api.call('GET', '/metrics', undefined, null);
    expect(metrics.raw).toMatch(
      /vault_token_refresh_total\{provider="oauth2",integration="oidc",trigger="on_demand",outcome="reauth_required",process="vault-api"\} 1/,
    );

    // Re-consent done elsewhere: a new grant brings it back.
    const fresh = await server.mintRefreshToken('revoked-user');
    const put = await api.call('PUT', `/v1/connections/${id}/grant`, { refresh_token: fresh });
    expect(put.body.status).toBe('active');
    const again = await api.call('GET', `/v1/connections/${id}/token`);
    expect(again.status).toBe(200);
    expect(await server.accepts(again.body.access_token as string)).toBe(true);
  });

  it('marks the integration, not its connections, when the provider rejects the client secret', async () => {
    const id = await importStale(api, 'oidc', await server.mintRefreshToken('cfg'), 'cfg');
    expect((await api.call('PATCH', '/v1/integrations/oidc', { client_secret: 'wrong-secret' })).status).toBe(
      200,
    );
    const before = server.tokenCalls;

    const read = await api.call('GET', `/v1/connections/${id}/token`);
    expect(read.status).toBe(503);
    expect(read.body.error).toBe('provider_unavailable');
    expect((await api.call('GET', '/v1/integrations/oidc')).body).toMatchObject({
      status: 'credentials_rejected',
      status_reason: 'invalid_client',
    });
    const conn = (await api.call('GET', `/v1/connections/${id}`)).body;
    expect(conn.status).not.toBe('needs_reauth');
    expect(conn.last_error).toMatchObject({ class: 'integration_error' });

    // While the integration is rejected, no further provider calls are made for its connections, and reads
    // that cannot be served do not pile events onto the connection's history.
    const eventsBefore = (await api.call('GET', `/v1/connections/${id}/events`)).body.data.length as number;
    for (let i = 0; i < 3; i++) {
      expect((await api.call('POST', `/v1/connections/${id}/refresh`)).body).toMatchObject({
        outcome: 'integration_error',
        called_provider: false,
      });
      expect((await api.call('GET', `/v1/connections/${id}/token`)).status).toBe(503);
    }
    expect(server.tokenCalls - before).toBe(1);
    expect((await api.call('GET', `/v1/connections/${id}/events`)).body.data).toHaveLength(eventsBefore);

    // Rotating the secret clears the flag and the connection recovers.
    await api.call('PATCH', '/v1/integrations/oidc', { client_secret: server.clientSecret });
    expect((await api.call('GET', '/v1/integrations/oidc')).body.status).toBe('ok');
    const ok = await api.call('GET', `/v1/connections/${id}/token`);
    expect(ok.status).toBe(200);
  });
});
