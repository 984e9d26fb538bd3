import { getQueueToken } from '@nestjs/bullmq';
import { ConnectSessionsService, WEBHOOK_QUEUE } from '@vault/core';
import type { Queue } from 'bullmq';
import { startTestApi, type TestApi } from '../utils/api';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { authorizeAsUser } from '../utils/oauth-user';
import { createIntegration, peerIntegration, query } from '../utils/refresh-fixtures';

/**
 * Connect sessions end to end: the vault runs the authorization-code flow with PKCE S256 against the real
 * authorization server (oidc-provider), the end user is played headlessly through its login and consent forms,
 * and the browser's last redirect (the vault's callback) is answered by the API. Every refusal leaves nothing
 * changed.
 */
const PUBLIC_URL = 'http://127.0.0.1:9998';
const CALLBACK = `${PUBLIC_URL}/v1/oauth/callback`;
const RETURN = 'https://platform.example.com/connected';

describe('connect sessions (authorization code + PKCE) against oidc-provider', () => {
  let server: OAuthServer;
  let api: TestApi;

  beforeAll(async () => {
    server = await startOAuthServer({ accessTokenTtl: 600, interactive: { redirectUris: [CALLBACK] } });
    api = await startTestApi({
      PUBLIC_URL,
      WEBHOOK_URL: 'http://127.0.0.1:9/hooks', // nothing delivers here: the jobs stay in the queue
      WEBHOOK_SECRET: 'whsec_test_0123456789abcdef',
    });
    for (const key of ['oidc', 'oidc-other']) {
      await createIntegration(
        api,
        peerIntegration(server, key, 'oauth2', {
          client_auth: 'client_secret_post',
          authorize_url: `${server.issuer}/auth`,
          scopes: ['openid'],
          allowed_return_urls: [RETURN],
        }),
      );
    }
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
  });

  const start = (body: Record<string, unknown>, key?: string) =>
    api.call(
      'POST',
      '/v1/connect-sessions',
      { integration: 'oidc', tenant_id: 'tenant-1', return_url: RETURN, ...body },
      key,
    );
  /** The browser arriving at the vault's callback (no API key). */
  const arrive = (callback: URL) => api.call('GET', `/v1/oauth/callback${callback.search}`, undefined, null);
  const count = async (table: string) =>
    (await query<{ n: number }>(api.db.url, `SELECT count(*)::int AS n FROM ${table}`))[0]?.n ?? 0;
  const returned = (res: { status: number; headers: Record<string, unknown> }) => {
    expect(res.status).toBe(303);
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(RETURN);
    return location.searchParams;
  };

  it('connects a new end user: authorize URL with S256 and offline access, callback stores the grant, 303 back', async () => {
    const res = await start({ end_user_id: 'user-42' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['authorize_url', 'expires_at', 'id']);
    const authorize = new URL(res.body.authorize_url as string);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: server.clientId,
      redirect_uri: CALLBACK,
      scope: 'openid offline_access',
      prompt: 'consent',
      code_challenge_method: 'S256',
    });
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const ttl = Date.parse(res.body.expires_at as string) - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);

    const callback = await authorizeAsUser(res.body.authorize_url as string);
    expect(callback.href.startsWith(`${CALLBACK}?`)).toBe(true);
    const back = returned(await arrive(callback));
    const id = back.get('connection_id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect([...back.keys()]).toEqual(['connection_id']);

    const conn = await api.call('GET', `/v1/connections/${id}`);
    expect(conn.body).toMatchObject({ status: 'active', tenant_id: 'tenant-1', end_user_id: 'user-42' });
    expect(conn.body.next_refresh_at).not.toBeNull(); // its refresh is scheduled
    const token = await api.call('GET', `/v1/connections/${id}/token`);
    expect(token.status).toBe(200);
    expect(await server.accepts(token.body.access_token as string)).toBe(true);
    // The stored refresh token is a real one: a forced refresh succeeds at the provider.
    const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(forced.body).toMatchObject({ outcome: 'success', called_provider: true });
    const events = await api.call('GET', `/v1/connections/${id}/events`);
    expect((events.body.data as { type: string }[]).map((e) => e.type)).toEqual(['refreshed', 'created']);

    // The state is single use: the same callback again is refused and changes nothing.
    const connections = await count('connections');
    const replay = await arrive(callback);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'connect_session_used' });
    expect(await count('connections')).toBe(connections);
  });

  it('refuses an expired state, a callback without a session and an unknown state, with nothing changed', async () => {
    const res = await start({});
    const callback = await authorizeAsUser(res.body.authorize_url as string);
    await query(
      api.db.url,
      `UPDATE connect_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [res.body.id],
    );
    const connections = await count('connections');
    const expired = await arrive(callback);
    expect(expired.status).toBe(400);
    expect(expired.body).toMatchObject({ error: 'connect_session_expired' });
    const [row] = await query<{ consumed_at: Date | null }>(
      api.db.url,
      `SELECT consumed_at FROM connect_sessions WHERE id = $1`,
      [res.body.id],
    );
    expect(row?.consumed_at).toBeNull();

    const none = await api.call(
      'GET',
      `/v1/oauth/callback?code=${callback.searchParams.get('code')}`,
      undefined,
      null,
    );
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ error: 'connect_session_invalid' });
    const unknown = await api.call(
      'GET',
      '/v1/oauth/callback?code=x&state=not-a-state-of-ours',
      undefined,
      null,
    );
    expect(unknown.body).toMatchObject({ error: 'connect_session_invalid' });
    expect(await count('connections')).toBe(connections);
  });

  it('a code from another session fails its PKCE check at the provider: error back, nothing stored', async () => {
    const a = await start({});
    const b = await start({});
    const codeOfA = (await authorizeAsUser(a.body.authorize_url as string)).searchParams.get('code') ?? '';
    const stateOfB = new URL(b.body.authorize_url as string).searchParams.get('state') ?? '';
    const connections = await count('connections');
    const back = returned(
      await api.call(
        'GET',
        `/v1/oauth/callback?${new URLSearchParams({ code: codeOfA, state: stateOfB }).toString()}`,
        undefined,
        null,
      ),
    );
    expect(back.get('error')).toBe('invalid_grant');
    expect(back.get('connection_id')).toBeNull();
    expect(await count('connections')).toBe(connections);
  });

  it("passes the provider's error on as a code when the user refuses, never its description", async () => {
    const res = await start({});
    const callback = await authorizeAsUser(res.body.authorize_url as string, { refuse: true });
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toBeTruthy();
    const connections = await count('connections');
    const back = returned(await arrive(callback));
    expect(Object.fromEntries(back)).toEqual({ error: 'access_denied' });
    expect(await count('connections')).toBe(connections);
  });

  it('refuses a return_url outside allowed_return_urls and a tenant key starting a session for another tenant', async () => {
    const sessions = await count('connect_sessions');
    for (const url of [
      'https://platform.example.com.evil.net/connected',
      'https://platform.example.com/connected-x',
    ]) {
      const res = await start({ return_url: url });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', field: 'return_url' });
    }
    const key = await api.call('POST', '/v1/api-keys', {
      name: 'tenant-2 app',
      scopes: ['connections:write'],
      tenant_id: 'tenant-2',
    });
    const other = await start({}, key.body.key as string);
    expect(other.status).toBe(403);
    expect(other.body.error).toBe('forbidden');
    expect(await count('connect_sessions')).toBe(sessions);
  });

  it('re-consents a revoked connection in place: same ID, active, reauthorized event and webhook', async () => {
    const imported = await api.call('POST', '/v1/connections', {
      integration: 'oidc',
      tenant_id: 'tenant-1',
      refresh_token: await server.mintRefreshToken(),
    });
    const id = imported.body.id as string;
    await api.call('POST', `/v1/connections/${id}/revoke`);
    expect((await api.call('GET', `/v1/connections/${id}/token`)).status).toBe(409);

    // The connection must belong to the session's tenant and integration.
    const sessions = await count('connect_sessions');
    const wrongTenant = await start({ connection_id: id, tenant_id: 'tenant-2' });
    expect(wrongTenant.body).toMatchObject({ error: 'validation_failed', field: 'connection_id' });
    const wrongIntegration = await start({ connection_id: id, integration: 'oidc-other' });
    expect(wrongIntegration.body).toMatchObject({ error: 'validation_failed', field: 'connection_id' });
    expect(await count('connect_sessions')).toBe(sessions);

    const connections = await count('connections');
    const res = await start({ connection_id: id });
    const back = returned(
      await arrive(await authorizeAsUser(res.body.authorize_url as string, { accountId: 'user-7' })),
    );
    expect(back.get('connection_id')).toBe(id);
    expect(await count('connections')).toBe(connections);
    expect((await api.call('GET', `/v1/connections/${id}`)).body.status).toBe('active');
    const token = await api.call('GET', `/v1/connections/${id}/token`);
    expect(await server.accepts(token.body.access_token as string)).toBe(true);
    const [latest] = (await api.call('GET', `/v1/connections/${id}/events`)).body.data as {
      type: string;
      detail: Record<string, unknown>;
    }[];
    expect(latest).toMatchObject({
      type: 'reauthorized',
      detail: { previous_status: 'revoked', via: 'connect_session', connect_session_id: res.body.id },
    });
    const queue = api.app.get<Queue>(getQueueToken(WEBHOOK_QUEUE));
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'failed']);
    expect(jobs.map((j) => j.data)).toContainEqual(
      expect.objectContaining({
        type: 'connection.reauthorized',
        data: { connection_id: id, tenant_id: 'tenant-1', integration: 'oidc', provider: 'oauth2' },
      }),
    );
  });

  it('integration settings: authorize_params reach the authorize URL; bad settings answer 400 naming the field', async () => {
    const patched = await api.call('PATCH', '/v1/integrations/oidc-other', {
      authorize_params: { audience: 'https://api.example.com', prompt: 'login consent' },
    });
    expect(patched.body.authorize_params).toEqual({
      audience: 'https://api.example.com',
      prompt: 'login consent',
    });
    const res = await start({ integration: 'oidc-other', scopes: ['openid', 'profile'] });
    const p = new URL(res.body.authorize_url as string).searchParams;
    expect(p.get('audience')).toBe('https://api.example.com');
    expect(p.get('prompt')).toBe('login consent');
    expect(p.get('scope')).toBe('openid profile offline_access');

    for (const [body, field] of [
      [{ authorize_params: { state: 'fixed' } }, 'authorize_params'],
      [{ authorize_params: { audience: 7 } }, 'authorize_params'],
      [{ allowed_return_urls: ['ftp://platform.example.com/x'] }, 'allowed_return_urls'],
      [{ allowed_return_urls: ['https://platform.example.com/x#frag'] }, 'allowed_return_urls'],
    ] as const) {
      const bad = await api.call('PATCH', '/v1/integrations/oidc-other', body);
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: 'validation_failed', field });
    }
    expect((await api.call('GET', '/v1/integrations/oidc-other')).body).toMatchObject({
      allowed_return_urls: [RETURN],
      authorize_params: { audience: 'https://api.example.com', prompt: 'login consent' },
    });
  });

  it('prunes sessions expired for more than a day', async () => {
    const res = await start({});
    await query(
      api.db.url,
      `UPDATE connect_sessions SET expires_at = now() - interval '25 hours' WHERE id = $1`,
      [res.body.id],
    );
    expect(await api.app.get(ConnectSessionsService).pruneExpired()).toBeGreaterThanOrEqual(1);
    expect(await query(api.db.url, `SELECT 1 FROM connect_sessions WHERE id = $1`, [res.body.id])).toEqual(
      [],
    );
  });
});
