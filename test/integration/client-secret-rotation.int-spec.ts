import { startTestApi, type TestApi } from '../utils/api';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { createIntegration, oidcIntegration, query } from '../utils/refresh-fixtures';

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

/**
 * Rotating an integration's client secret with an overlap, against oidc-provider whose accepted secret changes
 * (as in the provider's console): `PATCH /v1/integrations/:key { client_secret, previous_secret_valid_until }`.
 * Until then, a refresh whose client is rejected with the new secret is retried once with the previous one;
 * `credentials_rejected` only when both are rejected.
 */
describe('client secret rotation with an overlap', () => {
  let server: OAuthServer;
  let api: TestApi;
  let n = 0;

  /** A fresh connection (each forced refresh below is its connection's first: no minimum interval applies). */
  async function connection(): Promise<string> {
    n += 1;
    const res = await api.call('POST', '/v1/connections', {
      integration: 'oidc',
      tenant_id: 'tenant-1',
      external_id: `c${n}`,
      refresh_token: await server.mintRefreshToken(`u${n}`),
      access_token: `at-${n}`,
      expires_in: 3600,
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  /** Forces a refresh of a new connection; returns its outcome and the token endpoint calls it made. */
  async function refreshOnce(): Promise<{ outcome: string; calls: number }> {
    const id = await connection();
    const before = server.tokenCalls;
    const res = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(res.status).toBe(200);
    return { outcome: res.body.outcome as string, calls: server.tokenCalls - before };
  }

  const integrationStatus = async () =>
    (await api.call('GET', '/v1/integrations/oidc')).body.status as string;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    api = await startTestApi();
    await createIntegration(api, oidcIntegration(server));
  });

  afterAll(async () => {
    await api?.close();
    await server?.close();
  });

  it('falls back to the previous secret until the provider knows the new one, then uses the new one alone', async () => {
    const until = inAnHour();
    const patched = await api.call('PATCH', '/v1/integrations/oidc', {
      client_secret: 'secret-2',
      previous_secret_valid_until: until,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.previous_secret_valid_until).toBe(until);
    expect(patched.raw).not.toContain('secret-2');
    expect(patched.raw).not.toContain(server.clientSecret);

    // The provider still has the old secret: rejected with the new one, accepted with the previous one.
    expect(await refreshOnce()).toEqual({ outcome: 'success', calls: 2 });
    expect(await integrationStatus()).toBe('ok');
    const metrics = await api.call('GET', '/metrics', undefined, null);
    expect(metrics.raw).toMatch(/vault_refresh_previous_secret_total\{[^}]*outcome="accepted"[^}]*\} 1\n/);

    await server.setClientSecret('secret-2');
    expect(await refreshOnce()).toEqual({ outcome: 'success', calls: 1 });

    const events = await api.call('GET', '/v1/integrations/oidc/events');
    expect(events.body.data[0].changes).toMatchObject({
      client_secret: 'rotated',
      previous_secret_valid_until: until,
    });
    expect(events.raw).not.toContain('secret-2');
  });

  it('raises credentials_rejected only when both secrets are rejected', async () => {
    await server.setClientSecret('secret-unknown-to-the-vault');
    expect(await refreshOnce()).toEqual({ outcome: 'integration_error', calls: 2 });
    expect(await integrationStatus()).toBe('credentials_rejected');
  });

  it('tries the previous secret no more once its overlap has ended', async () => {
    await server.setClientSecret('secret-2');
    const patched = await api.call('PATCH', '/v1/integrations/oidc', {
      client_secret: 'secret-3',
      previous_secret_valid_until: inAnHour(),
    });
    expect(patched.status).toBe(200);
    expect(await integrationStatus()).toBe('ok');
    await query(
      api.db.url,
      `UPDATE integrations SET previous_secret_valid_until = now() - interval '1 second' WHERE key = 'oidc'`,
    );
    expect(await refreshOnce()).toEqual({ outcome: 'integration_error', calls: 1 });
  });

  it('a rotation without an overlap drops the previous secret', async () => {
    await server.setClientSecret('secret-4');
    expect((await api.call('PATCH', '/v1/integrations/oidc', { client_secret: 'secret-4' })).status).toBe(
      200,
    );
    const [row] = await query<{ previous: Buffer | null; until: Date | null }>(
      api.db.url,
      `SELECT previous_client_secret_sealed AS previous, previous_secret_valid_until AS until
       FROM integrations WHERE key = 'oidc'`,
    );
    expect(row).toEqual({ previous: null, until: null });
    expect(await refreshOnce()).toEqual({ outcome: 'success', calls: 1 });
  });

  it('refuses an overlap without a new secret, in the past, too long or malformed, changing nothing', async () => {
    const before = (await api.call('GET', '/v1/integrations/oidc')).body;
    for (const body of [
      { previous_secret_valid_until: inAnHour() },
      { client_secret: 'x', previous_secret_valid_until: new Date(Date.now() - 1000).toISOString() },
      {
        client_secret: 'x',
        previous_secret_valid_until: new Date(Date.now() + 91 * 86_400_000).toISOString(),
      },
      { client_secret: 'x', previous_secret_valid_until: 'tomorrow' },
    ]) {
      const res = await api.call('PATCH', '/v1/integrations/oidc', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', field: 'previous_secret_valid_until' });
    }
    expect((await api.call('GET', '/v1/integrations/oidc')).body).toEqual(before);
    expect(await refreshOnce()).toEqual({ outcome: 'success', calls: 1 });
  });
});
