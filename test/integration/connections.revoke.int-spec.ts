import { startTestApi, type TestApi } from '../utils/api';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { startGoogleEmulator, type Emulator } from '../utils/provider-emulators';
import {
  createIntegration,
  oidcIntegration,
  peerIntegration,
  importStale,
  query,
  waitFor,
} from '../utils/refresh-fixtures';

/**
 * Revocation without deletion (POST /v1/connections/:id/revoke) against the real authorization server
 * (oidc-provider, RFC 7009) and the Google emulator: the provider revokes, the secrets are wiped, the row
 * and its history stay; a provider that fails to revoke does not keep the secret alive.
 */
describe('revoking a connection without deleting it', () => {
  let server: OAuthServer;
  let google: Emulator;
  let api: TestApi;

  beforeAll(async () => {
    [server, google] = await Promise.all([
      startOAuthServer({ rotate: true, accessTokenTtl: 600 }),
      startGoogleEmulator(),
    ]);
    api = await startTestApi({ PROVIDER_TIMEOUT_MS: '5000' });
    await createIntegration(api, oidcIntegration(server));
    await createIntegration(api, peerIntegration(google, 'google', 'google'));
    // Nothing listens on the revocation endpoint: the revocation cannot be made.
    const down = { ...server, revokeUrl: 'http://127.0.0.1:1/revoke' };
    await createIntegration(
      api,
      peerIntegration(down, 'oidc-revoke-down', 'oauth2', { client_auth: 'client_secret_post' }),
    );
  });
  afterAll(async () => {
    await api?.close();
    await Promise.all([server?.close(), google?.close()]);
  });

  const secrets = (id: string) =>
    query<{ rt: Buffer | null; at: Buffer | null; status: string; next_refresh_at: Date | null }>(
      api.db.url,
      `SELECT refresh_token_sealed AS rt, access_token_sealed AS at, status, next_refresh_at
       FROM connections WHERE id = $1`,
      [id],
    );
  const events = async (id: string) =>
    (await api.call('GET', `/v1/connections/${id}/events?limit=200`)).body.data as {
      type: string;
      detail: Record<string, unknown>;
    }[];

  it('revokes at the provider (RFC 7009), wipes the secrets and keeps the row and its history', async () => {
    const id = await importStale(api, 'oidc', await server.mintRefreshToken(), 'revoke-ok');
    const read = await api.call('GET', `/v1/connections/${id}/token`);
    expect(read.status).toBe(200);
    const accessToken = read.body.access_token as string;
    expect(await server.accepts(accessToken)).toBe(true);

    const res = await api.call('POST', `/v1/connections/${id}/revoke`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      status: 'revoked',
      status_reason: 'revoked',
      provider_revocation: 'revoked',
      access_token_expires_at: null,
      next_refresh_at: null,
    });
    // The provider no longer honours the grant: the access token read a moment ago is dead too.
    expect(await server.accepts(accessToken)).toBe(false);
    const [row] = await secrets(id);
    expect(row).toEqual({ rt: null, at: null, status: 'revoked', next_refresh_at: null });

    // The row and its history stay, with the revocation recorded.
    expect((await api.call('GET', `/v1/connections/${id}`)).body.status).toBe('revoked');
    const history = await events(id);
    expect(history.map((e) => e.type)).toEqual(['revoked', 'refreshed', 'created']);
    expect(history[0]?.detail).toEqual({ previous_status: 'active', provider_revocation: 'revoked' });

    // A token read answers a clear 4xx code; a forced refresh does not call the provider.
    const after = await api.call('GET', `/v1/connections/${id}/token`);
    expect(after.status).toBe(409);
    expect(after.body).toMatchObject({ error: 'connection_revoked', reason: 'revoked' });
    expect(after.raw).not.toContain(accessToken);
    const calls = server.tokenCalls;
    const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(forced.body).toMatchObject({
      outcome: 'reauth_required',
      status: 'revoked',
      called_provider: false,
    });
    expect(server.tokenCalls).toBe(calls);

    // Revoking again changes nothing and records nothing.
    const again = await api.call('POST', `/v1/connections/${id}/revoke`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'revoked', provider_revocation: 'already_revoked' });
    expect((await events(id)).length).toBe(3);
  });

  it('a provider that fails to revoke does not keep the secret alive: the failure is in the event', async () => {
    // Google answers 400 invalid_token for a token it no longer knows.
    const rt = google.issue();
    const gid = await importStale(api, 'google', rt, 'revoke-google-fails');
    google.revoke(rt);
    const g = await api.call('POST', `/v1/connections/${gid}/revoke`);
    expect(g.body).toMatchObject({ status: 'revoked', provider_revocation: 'failed' });
    expect((await secrets(gid))[0]).toMatchObject({ rt: null, at: null, status: 'revoked' });
    expect((await events(gid))[0]).toEqual({
      type: 'revoked',
      detail: {
        previous_status: 'active',
        provider_revocation: 'failed',
        failure: expect.objectContaining({ code: 'invalid_token', http_status: 400 }),
      },
      id: expect.any(String),
      created_at: expect.any(String),
    });

    // A revocation endpoint that cannot be reached.
    const did = await importStale(api, 'oidc-revoke-down', await server.mintRefreshToken(), 'revoke-down');
    const d = await api.call('POST', `/v1/connections/${did}/revoke`);
    expect(d.body).toMatchObject({ status: 'revoked', provider_revocation: 'failed' });
    expect((await secrets(did))[0]).toMatchObject({ rt: null, at: null });
    const detail = (await events(did))[0]?.detail as { failure: { class: string; http_status: unknown } };
    expect(detail.failure).toMatchObject({ class: 'transient', http_status: null });
  });

  it('revokes at Google: the emulator refuses the refresh token afterwards', async () => {
    const rt = google.issue();
    const id = await importStale(api, 'google', rt, 'revoke-google-ok');
    const res = await api.call('POST', `/v1/connections/${id}/revoke`);
    expect(res.body).toMatchObject({ status: 'revoked', provider_revocation: 'revoked' });
    const direct = await fetch(google.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: rt,
        client_id: google.clientId,
        client_secret: google.clientSecret,
      }),
    });
    expect(direct.status).toBe(400);
  });

  it('a refresh in flight while the connection is revoked cannot write a token back', async () => {
    const id = await importStale(api, 'oidc', await server.mintRefreshToken(), 'revoke-race');
    server.faults.push({ hangMs: 1500 }); // the provider rotates, then answers late
    const refreshing = api.call('POST', `/v1/connections/${id}/refresh`);
    await waitFor('the refresh to be under way', async () => {
      const open = await query(
        api.db.url,
        `SELECT 1 FROM refresh_attempts WHERE connection_id = $1 AND finished_at IS NULL`,
        [id],
      );
      return open.length > 0;
    });
    const revoked = await api.call('POST', `/v1/connections/${id}/revoke`);
    expect(revoked.body.status).toBe('revoked');
    await refreshing;
    expect((await secrets(id))[0]).toMatchObject({ rt: null, at: null, status: 'revoked' });
    expect((await events(id)).map((e) => e.type)).toEqual(['refresh_race_lost', 'revoked', 'created']);
  });

  it('re-consent brings a revoked connection back on the same ID; DELETE still revokes then deletes', async () => {
    const id = await importStale(api, 'oidc', await server.mintRefreshToken(), 'revoke-back');
    await api.call('POST', `/v1/connections/${id}/revoke`);
    const put = await api.call('PUT', `/v1/connections/${id}/grant`, {
      refresh_token: await server.mintRefreshToken(),
    });
    expect(put.body).toMatchObject({ id, status: 'active' });
    expect((await events(id))[0]?.type).toBe('reauthorized');
    expect((await api.call('GET', `/v1/connections/${id}/token`)).status).toBe(200);

    const del = await api.call('DELETE', `/v1/connections/${id}`);
    expect(del.body).toMatchObject({ deleted: true, provider_revocation: 'revoked' });
    expect((await api.call('GET', `/v1/connections/${id}`)).status).toBe(404);
  });

  it('a tenant key cannot revoke another tenant’s connection (404, nothing changed)', async () => {
    const id = await importStale(api, 'oidc', await server.mintRefreshToken(), 'revoke-tenant');
    const key = await api.call('POST', '/v1/api-keys', {
      name: 'other tenant',
      scopes: ['connections:write', 'connections:read'],
      tenant_id: 'tenant-2',
    });
    const res = await api.call('POST', `/v1/connections/${id}/revoke`, undefined, key.body.key as string);
    expect(res.status).toBe(404);
    expect((await secrets(id))[0]?.status).toBe('active');
  });
});
