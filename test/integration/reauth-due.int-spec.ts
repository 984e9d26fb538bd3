import { getQueueToken } from '@nestjs/bullmq';
import { MetricsService, ReauthDueWatch, WEBHOOK_QUEUE, WebhookNotifier } from '@vault/core';
import { ReauthDueRepository } from '@vault/persistence';
import type { Queue } from 'bullmq';
import { startTestApi, type TestApi } from '../utils/api';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { authorizeAsUser } from '../utils/oauth-user';
import { createIntegration, oidcIntegration, peerIntegration } from '../utils/refresh-fixtures';

/**
 * Refresh-token lifetimes: a grant whose refresh token has a known death (the catalogue's absolute lifetime,
 * Auth0's 30 days here) is flagged once it falls within REAUTH_WARNING_DAYS: `reauth_due_at`, one
 * `reauth_due` event and `connection.reauth_due` webhook, the `vault_connections_reauth_due` gauge; the flag
 * goes with a re-consent or a revocation. Real PostgreSQL, Redis (the webhook queue) and oidc-provider.
 */
const DAY_MS = 86_400_000;

describe('re-consent due before the refresh token dies', () => {
  let server: OAuthServer;
  let api: TestApi;
  let watch: ReauthDueWatch;

  beforeAll(async () => {
    server = await startOAuthServer({ accessTokenTtl: 600 });
    api = await startTestApi({
      REAUTH_WARNING_DAYS: '31',
      WEBHOOK_URL: 'http://127.0.0.1:9/hooks', // nothing delivers here: the jobs stay in the queue
      WEBHOOK_SECRET: 'whsec_test_0123456789abcdef',
    });
    // Auth0's refresh tokens die 30 days after consent (catalogue); a standard server's lifetime is unknown.
    await createIntegration(
      api,
      peerIntegration(server, 'auth0', 'auth0', { client_auth: 'client_secret_post' }),
    );
    await createIntegration(api, oidcIntegration(server));
    watch = api.app.get(ReauthDueWatch);
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
  });

  const importGrant = async (integration: string) => {
    const res = await api.call('POST', '/v1/connections', {
      integration,
      tenant_id: 'tenant-1',
      refresh_token: await server.mintRefreshToken(),
    });
    return res.body as { id: string; refresh_token_expires_at: string | null };
  };
  const get = async (id: string) => (await api.call('GET', `/v1/connections/${id}`)).body;
  const dueEvents = async (id: string) =>
    ((await api.call('GET', `/v1/connections/${id}/events`)).body.data as { type: string }[]).filter(
      (e) => e.type === 'reauth_due',
    );
  const gauge = async (provider: string) => {
    const text = await api.app.get(MetricsService).registry.metrics();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('vault_connections_reauth_due{') && l.includes(`provider="${provider}"`));
    return line ? Number(line.split(' ').pop()) : undefined;
  };

  it('records the death, flags within the window once (event, webhook, gauge), clears on re-consent and revocation', async () => {
    const auth0 = await importGrant('auth0');
    const standard = await importGrant('oidc');
    const death = Date.parse(auth0.refresh_token_expires_at ?? '');
    expect(Math.abs(death - (Date.now() + 30 * DAY_MS))).toBeLessThan(60_000);
    expect(standard.refresh_token_expires_at).toBeNull();

    // With the default window (7 days) a 30-day token is not due yet.
    const sevenDays = new ReauthDueWatch(
      api.app.get(ReauthDueRepository),
      api.app.get(WebhookNotifier),
      api.app.get(MetricsService),
      { REAUTH_WARNING_DAYS: 7 },
    );
    expect(await sevenDays.check()).toBe(0);
    expect((await get(auth0.id)).reauth_due_at).toBeNull();
    expect(await gauge('auth0')).toBe(0);

    // Within 31 days it is: flagged once.
    expect(await watch.check()).toBe(1);
    expect((await get(auth0.id)).reauth_due_at).toBe(auth0.refresh_token_expires_at);
    expect((await get(standard.id)).reauth_due_at).toBeNull();
    expect(await dueEvents(auth0.id)).toEqual([
      expect.objectContaining({
        detail: { refresh_token_expires_at: auth0.refresh_token_expires_at?.replace(/\.\d+Z$/, 'Z') },
      }),
    ]);
    expect(await gauge('auth0')).toBe(1);
    expect(await gauge('oauth2')).toBe(0);
    const queue = api.app.get<Queue>(getQueueToken(WEBHOOK_QUEUE));
    const hooks = async () =>
      (await queue.getJobs(['waiting', 'delayed', 'active', 'failed']))
        .map((j) => j.data as { type: string; data: Record<string, string> })
        .filter((j) => j.type === 'connection.reauth_due' && j.data.connection_id === auth0.id);
    expect(await hooks()).toEqual([
      expect.objectContaining({
        data: {
          connection_id: auth0.id,
          tenant_id: 'tenant-1',
          integration: 'auth0',
          provider: 'auth0',
          refresh_token_expires_at: auth0.refresh_token_expires_at,
        },
      }),
    ]);
    // Once: a second round flags nothing and sends nothing more.
    expect(await watch.check()).toBe(0);
    expect(await dueEvents(auth0.id)).toHaveLength(1);
    expect(await hooks()).toHaveLength(1);

    // Re-consent gives a new grant (a new 30 days): the flag goes, and comes back only as a new episode.
    await api.call('PUT', `/v1/connections/${auth0.id}/grant`, {
      refresh_token: await server.mintRefreshToken(),
    });
    expect((await get(auth0.id)).reauth_due_at).toBeNull();
    // Revoked: nothing left to re-consent for; the watch neither flags it nor counts it.
    await api.call('POST', `/v1/connections/${auth0.id}/revoke`);
    expect(await watch.check()).toBe(0);
    expect((await get(auth0.id)).reauth_due_at).toBeNull();
    expect(await gauge('auth0')).toBe(0);
  });

  it("records the provider's refresh_token_expires_in from a connect session's code exchange, and flags it", async () => {
    const callback = 'http://127.0.0.1:9997/v1/oauth/callback';
    const stating = await startOAuthServer({
      interactive: { redirectUris: [callback] },
      refreshTokenExpiresIn: 5 * 86_400, // five days
    });
    const other = await startTestApi({ PUBLIC_URL: 'http://127.0.0.1:9997' }); // REAUTH_WARNING_DAYS: 7
    try {
      await createIntegration(
        other,
        peerIntegration(stating, 'stating', 'oauth2', {
          client_auth: 'client_secret_post',
          authorize_url: `${stating.issuer}/auth`,
          scopes: ['openid'],
        }),
      );
      const session = await other.call('POST', '/v1/connect-sessions', {
        integration: 'stating',
        tenant_id: 'tenant-1',
        return_url: 'http://127.0.0.1:5000/done',
      });
      const back = await authorizeAsUser(session.body.authorize_url as string);
      const done = await other.call('GET', `/v1/oauth/callback${back.search}`, undefined, null);
      const id = new URL(String(done.headers.location)).searchParams.get('connection_id') ?? '';
      const conn = (await other.call('GET', `/v1/connections/${id}`)).body;
      const death = Date.parse(conn.refresh_token_expires_at as string);
      expect(Math.abs(death - (Date.now() + 5 * DAY_MS))).toBeLessThan(60_000);
      expect(await other.app.get(ReauthDueWatch).check()).toBe(1);
      expect((await other.call('GET', `/v1/connections/${id}`)).body.reauth_due_at).toBe(
        conn.refresh_token_expires_at,
      );
    } finally {
      await other.close();
      await stating.close();
    }
  });
});
