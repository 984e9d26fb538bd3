import { randomUUID } from 'node:crypto';
import {
  ConnectionRevokedError,
  ForbiddenError,
  NotFoundError,
  ReauthRequiredError,
  UnauthorizedError,
  VaultClient,
  type AccessToken,
} from '@vault/client';
import { startTestApi, type TestApi } from '../utils/api';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { createIntegration, oidcIntegration, importStale } from '../utils/refresh-fixtures';

/**
 * The typed client (libs/client) against the real API on a real HTTP listener (PostgreSQL, Redis, the local
 * KMS and an oidc-provider authorization server). Requests reaching the vault are counted by the vault
 * itself: `vault_token_requests_total` on its /metrics.
 */
describe('@vault/client against the real API', () => {
  let server: OAuthServer;
  let api: TestApi;
  let baseUrl: string;
  let serviceKey: string;

  /** Token reads the vault has answered, by outcome, from its own /metrics. */
  async function tokenReads(outcome: string): Promise<number> {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('vault_token_requests_total{') && l.includes(`outcome="${outcome}"`))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  async function createKey(scopes: string[]): Promise<{ id: string; key: string }> {
    const res = await api.call('POST', '/v1/api-keys', { name: `svc-${randomUUID()}`, scopes });
    if (res.status !== 201) throw new Error(`api key not created: ${res.status} ${res.raw}`);
    return { id: res.body.id as string, key: res.body.key as string };
  }

  async function importValid(externalId: string, expiresIn: number): Promise<string> {
    const res = await api.call('POST', '/v1/connections', {
      integration: 'oidc',
      tenant_id: 'tenant-1',
      external_id: externalId,
      refresh_token: await server.mintRefreshToken(externalId),
      access_token: `imported-${externalId}`,
      expires_in: expiresIn,
    });
    if (res.status !== 201) throw new Error(`connection not imported: ${res.status} ${res.raw}`);
    return res.body.id as string;
  }

  const client = (extra: Partial<ConstructorParameters<typeof VaultClient>[0]> = {}) =>
    new VaultClient({ baseUrl, apiKey: serviceKey, ...extra });

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 3600 });
    // Short transient backoff, so the vault's Retry-After after a provider 503 is a few seconds.
    api = await startTestApi({ REFRESH_BACKOFF_BASE_SECONDS: '1', REFRESH_BACKOFF_MAX_SECONDS: '3' });
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = (await api.app.getUrl()).replace('[::1]', '127.0.0.1');
    await createIntegration(api, { ...oidcIntegration(server), authorize_url: `${server.issuer}/auth` });
    serviceKey = (await createKey(['tokens:read', 'connections:read', 'connections:write'])).key;
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
  });

  it('serves the token, then from memory: further calls, even 20 at once, make no request', async () => {
    const id = await importValid('cached', 3600);
    const vault = client();
    const before = await tokenReads('success');
    const first = await vault.getToken(id);
    expect(first).toMatchObject({ connection_id: id, access_token: 'imported-cached', token_type: 'Bearer' });
    expect(await tokenReads('success')).toBe(before + 1);
    const again = await Promise.all(Array.from({ length: 20 }, () => vault.getToken(id)));
    expect(again.every((t) => t.access_token === 'imported-cached')).toBe(true);
    expect(await tokenReads('success')).toBe(before + 1);

    // A fresh client with nothing cached shares one request among 20 concurrent calls.
    const cold = client();
    await Promise.all(Array.from({ length: 20 }, () => cold.getToken(id)));
    expect(await tokenReads('success')).toBe(before + 2);
  });

  it('honours min_ttl: a need beyond the cached token asks the vault, which refreshes first', async () => {
    const id = await importValid('min-ttl', 600);
    const vault = client();
    const reads = await tokenReads('success');
    const calls = server.tokenCalls;
    expect((await vault.getToken(id, { minTtl: 60 })).access_token).toBe('imported-min-ttl');
    expect((await vault.getToken(id, { minTtl: 60 })).access_token).toBe('imported-min-ttl');
    expect(await tokenReads('success')).toBe(reads + 1);

    const longer: AccessToken = await vault.getToken(id, { minTtl: 1800 });
    expect(longer.access_token).not.toBe('imported-min-ttl');
    expect(Date.parse(longer.expires_at) - Date.now()).toBeGreaterThanOrEqual(1800 * 1000);
    expect(server.tokenCalls).toBe(calls + 1);
    expect(await tokenReads('success')).toBe(reads + 2);
    expect(await server.accepts(longer.access_token)).toBe(true);

    // The refreshed token now serves both margins from memory.
    expect((await vault.getToken(id, { minTtl: 1800 })).access_token).toBe(longer.access_token);
    expect((await vault.getToken(id, { minTtl: 60 })).access_token).toBe(longer.access_token);
    expect(await tokenReads('success')).toBe(reads + 2);
  });

  it('throws ReauthRequiredError with the reason for a connection that needs re-consent, every time', async () => {
    const id = await importStale(api, 'oidc', 'a-refresh-token-the-server-never-issued', 'revoked-grant');
    const vault = client();
    const flagged = await tokenReads('reauth_required');
    const err = await vault.getToken(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect(err).toMatchObject({ status: 409, code: 'reauth_required', reason: 'invalid_grant' });
    expect((err as Error).message).not.toContain(serviceKey);
    await expect(vault.getToken(id)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(await tokenReads('reauth_required')).toBe(flagged + 2);
    expect(await vault.getConnection(id)).toMatchObject({
      status: 'needs_reauth',
      status_reason: 'invalid_grant',
    });
    const events = await vault.listEvents(id);
    expect(events.data.map((e) => e.type)).toContain('needs_reauth');
  });

  it('throws NotFoundError for an unknown connection', async () => {
    const err = await client()
      .getToken(randomUUID())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('retries a 503 as its Retry-After says until the vault can serve the token', async () => {
    const id = await importStale(api, 'oidc', await server.mintRefreshToken('busy'), 'busy');
    server.faults.push({ status: 503, body: '<html>busy</html>', headers: { 'retry-after': '1' } });
    const seen: { sentAt: number; answeredAt: number; status: number; retryAfter: string | null }[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const sentAt = Date.now();
      const res = await fetch(input, init);
      seen.push({
        sentAt,
        answeredAt: Date.now(),
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
      });
      return res;
    };
    const unavailable = await tokenReads('provider_unavailable');
    const token = await client({ fetch: recordingFetch, retryDeadlineMs: 30_000 }).getToken(id);

    expect(await server.accepts(token.access_token)).toBe(true);
    expect(seen.map((s) => s.status)).toEqual([...seen.slice(0, -1).map(() => 503), 200]);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(await tokenReads('provider_unavailable')).toBe(unavailable + seen.length - 1);
    for (let i = 1; i < seen.length; i++) {
      const waitMs = Number(seen[i - 1]!.retryAfter) * 1000;
      expect(waitMs).toBeGreaterThanOrEqual(1000);
      expect(seen[i]!.sentAt - seen[i - 1]!.answeredAt).toBeGreaterThanOrEqual(waitMs - 5);
    }
  });

  it('throws ForbiddenError for a key without tokens:read and UnauthorizedError for a revoked key', async () => {
    const id = await importValid('keys', 3600);
    const readOnly = await createKey(['connections:read']);
    const forbidden = await client({ apiKey: readOnly.key })
      .getToken(id)
      .catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect(forbidden).toMatchObject({ status: 403, requiredScope: 'tokens:read' });

    const revoked = await createKey(['tokens:read']);
    expect((await api.call('DELETE', `/v1/api-keys/${revoked.id}`)).status).toBeLessThan(300);
    const unauthorized = await client({ apiKey: revoked.key })
      .getToken(id)
      .catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(UnauthorizedError);
    for (const e of [forbidden, unauthorized] as Error[])
      expect(`${e.message} ${JSON.stringify(e)}`).not.toMatch(new RegExp(`${readOnly.key}|${revoked.key}`));
  });

  it('forces a refresh and lists connections through the typed wrappers', async () => {
    const id = await importValid('wrappers', 3600);
    const vault = client();
    const before = await vault.getToken(id);
    const result = await vault.refresh(id);
    expect(result).toMatchObject({ outcome: 'success', status: 'active', called_provider: true });
    const after = await vault.getToken(id);
    expect(after.access_token).not.toBe(before.access_token);
    const found: string[] = [];
    for await (const c of vault.connections({ status: 'needs_reauth', limit: 1 })) found.push(c.id);
    expect(found.length).toBeGreaterThanOrEqual(1);
    expect(found).not.toContain(id);
  });

  it('revokes a connection (then ConnectionRevokedError on read) and starts a connect session', async () => {
    const id = await importValid('revoked-by-client', 3600);
    const vault = client();
    await vault.getToken(id);
    const revoked = await vault.revoke(id);
    expect(revoked).toMatchObject({ id, status: 'revoked', provider_revocation: 'revoked' });
    // The cached token went with it: the read asks the vault, which answers connection_revoked.
    await expect(vault.getToken(id)).rejects.toBeInstanceOf(ConnectionRevokedError);

    const session = await vault.startConnectSession({
      integration: 'oidc',
      tenant_id: 'tenant-1',
      return_url: 'http://127.0.0.1:5000/done',
    });
    expect(new URL(session.authorize_url).searchParams.get('code_challenge_method')).toBe('S256');
    expect(Date.parse(session.expires_at)).toBeGreaterThan(Date.now());
  });
});
