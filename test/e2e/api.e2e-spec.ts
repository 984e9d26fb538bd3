import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModulesContainer } from '@nestjs/core';
import { PUBLIC_ROUTE, REQUIRED_SCOPE } from '@vault/core';
import { Client } from 'pg';
import { TokenRoute } from '../../apps/vault-api/src/controllers/token.route';
import { startTestApi, type TestApi } from '../utils/api';

const METHOD_NAMES = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD'] as const;

describe('vault API over HTTP (real PostgreSQL, Redis and local KMS)', () => {
  let api: TestApi;
  const integration = {
    key: 'acme-oauth',
    provider: 'oauth2',
    client_id: 'client-1',
    client_secret: 'CLIENT-SECRET-plaintext-0001',
    token_url: 'http://127.0.0.1:9/token',
  };
  const grant = (over: Record<string, unknown> = {}) => ({
    integration: 'acme-oauth',
    tenant_id: 'tenant-a',
    external_id: 'user-1',
    refresh_token: 'REFRESH-plaintext-0001',
    access_token: 'ACCESS-plaintext-0001',
    expires_in: 3600,
    scopes: ['read', 'write'],
    ...over,
  });

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: api.db.url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  it('guards every route: each declares a scope or is public, and each scoped route answers 401 without a key', async () => {
    const container = api.app.get(ModulesContainer);
    const routes: { method: string; path: string; public: boolean }[] = [];
    for (const mod of container.values()) {
      for (const wrapper of mod.controllers.values()) {
        const cls = wrapper.metatype as (new (...a: unknown[]) => unknown) | undefined;
        if (!cls) continue;
        const base = (Reflect.getMetadata('path', cls) as string | undefined) ?? '';
        const classPublic = Reflect.getMetadata(PUBLIC_ROUTE, cls) === true;
        const classScope = Reflect.getMetadata(REQUIRED_SCOPE, cls) as string | undefined;
        // Handlers a controller inherits (the apps' OpsController extends core's OpsEndpoints) count too.
        const names = new Set<string>();
        for (let proto = cls.prototype as object | null; proto && proto !== Object.prototype;) {
          for (const n of Object.getOwnPropertyNames(proto)) names.add(n);
          proto = Object.getPrototypeOf(proto) as object | null;
        }
        for (const name of names) {
          const handler = (cls.prototype as Record<string, unknown>)[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const path = Reflect.getMetadata('path', handler) as string | undefined;
          const method = Reflect.getMetadata('method', handler) as number | undefined;
          if (path === undefined || method === undefined) continue;
          const isPublic = classPublic || Reflect.getMetadata(PUBLIC_ROUTE, handler) === true;
          const scope = (Reflect.getMetadata(REQUIRED_SCOPE, handler) as string | undefined) ?? classScope;
          expect({ route: `${cls.name}.${name}`, guarded: isPublic || Boolean(scope) }).toEqual({
            route: `${cls.name}.${name}`,
            guarded: true,
          });
          const full = `/${[base, path].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
          routes.push({ method: METHOD_NAMES[method] ?? 'GET', path: full, public: isPublic });
        }
      }
    }
    // The token read is served by Fastify directly (TokenRoute), outside Nest's controllers and guard.
    routes.push({ method: 'GET', path: TokenRoute.path, public: false });
    expect(routes.length).toBeGreaterThanOrEqual(18);
    // The OAuth callback is reached by the end user's browser: its connect session's state authenticates it.
    expect(
      routes
        .filter((r) => r.public)
        .map((r) => r.path)
        .sort(),
    ).toEqual([
      // The dashboard page's static files: its data comes from the scoped /v1 routes.
      '/dashboard',
      '/dashboard/dashboard.css',
      '/dashboard/dashboard.js',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/v1/oauth/callback',
    ]);
    for (const r of routes.filter((x) => !x.public)) {
      const url = r.path.replace(/:[a-z_]+/g, '6b0f2c1e-8a4d-4f3b-9c2e-1d5a7e9b0c3f');
      const res = await api.call(
        r.method as 'GET',
        url,
        r.method === 'GET' || r.method === 'DELETE' ? undefined : {},
        null,
      );
      expect({ route: `${r.method} ${r.path}`, status: res.status, error: res.body?.error }).toEqual({
        route: `${r.method} ${r.path}`,
        status: 401,
        error: 'unauthorized',
      });
    }
  });

  it('refuses a wrong key (401) and a key without the scope (403)', async () => {
    expect((await api.call('GET', '/v1/integrations', undefined, 'vk_wrong')).status).toBe(401);
    const created = await api.call('POST', '/v1/api-keys', { name: 'reader', scopes: ['tokens:read'] });
    expect(created.status).toBe(201);
    const res = await api.call('POST', '/v1/integrations', integration, created.body.key);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'forbidden', required_scope: 'integrations:write' });
  });

  it('creates an integration and never answers its secret', async () => {
    const res = await api.call('POST', '/v1/integrations', integration);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      key: 'acme-oauth',
      provider: 'oauth2',
      client_auth: 'client_secret_basic',
      status: 'ok',
    });
    expect(res.raw).not.toContain(integration.client_secret);
    expect(Object.keys(res.body)).not.toContain('client_secret');
    const list = await api.call('GET', '/v1/integrations');
    expect(list.body.data.map((i: { key: string }) => i.key)).toContain('acme-oauth');
    expect(list.raw).not.toContain(integration.client_secret);
  });

  it('answers 409 for a duplicate integration key and changes nothing', async () => {
    const res = await api.call('POST', '/v1/integrations', { ...integration, client_id: 'other' });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('integration_exists');
    expect((await api.call('GET', '/v1/integrations/acme-oauth')).body.client_id).toBe('client-1');
  });

  it.each([
    [{ ...integration, key: 'x1', provider: 'nope' }, 'provider'],
    [{ ...integration, key: 'Bad Key' }, 'key'],
    [{ ...integration, key: 'x2', token_url: 'not a url' }, 'token_url'],
    [{ ...integration, key: 'x3', unknown_field: 1 }, 'unknown_field'],
    [{ ...integration, key: 'x4', client_secret: undefined }, 'client_secret'],
    [{ ...integration, key: 'x5', provider: 'auth0', token_url: undefined }, 'token_url'],
  ])('validates integration input (%#) naming the field', async (body, field) => {
    const res = await api.call('POST', '/v1/integrations', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed', field });
  });

  it('rotates the client secret with PATCH', async () => {
    const res = await api.call('PATCH', '/v1/integrations/acme-oauth', {
      client_secret: 'NEW-SECRET-plaintext-2',
    });
    expect(res.status).toBe(200);
    expect(res.raw).not.toContain('NEW-SECRET');
    expect((await api.call('PATCH', '/v1/integrations/missing', { client_id: 'x' })).status).toBe(404);
  });

  let connectionId = '';

  it('imports a grant and reads a valid access token on the hot path', async () => {
    const res = await api.call('POST', '/v1/connections', grant());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      integration: 'acme-oauth',
      provider: 'oauth2',
      tenant_id: 'tenant-a',
      status: 'active',
    });
    expect(res.raw).not.toContain('plaintext');
    connectionId = res.body.id as string;

    const token = await api.call('GET', `/v1/connections/${connectionId}/token?min_ttl=60`);
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({
      connection_id: connectionId,
      access_token: 'ACCESS-plaintext-0001',
      token_type: 'Bearer',
      scopes: ['read', 'write'],
    });
    expect(token.headers['cache-control']).toBe('no-store');
    expect(Date.parse(token.body.expires_at as string) - Date.now()).toBeGreaterThan(3500_000);
    expect(token.raw).not.toContain('REFRESH-plaintext');
  });

  it('answers 503 provider_unavailable with retry_after when no token is valid for min_ttl', async () => {
    const res = await api.call('GET', `/v1/connections/${connectionId}/token?min_ttl=7200`);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('provider_unavailable');
    expect(typeof res.body.retry_after).toBe('number');
    expect(res.headers['retry-after']).toBe(String(res.body.retry_after));
  });

  it('answers 409 reauth_required for a connection flagged for re-consent', async () => {
    const other = await api.call('POST', '/v1/connections', grant({ external_id: 'user-flagged' }));
    await sql(
      `UPDATE connections SET status = 'needs_reauth', status_reason = 'invalid_grant' WHERE id = $1`,
      [other.body.id],
    );
    const res = await api.call('GET', `/v1/connections/${other.body.id}/token`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'reauth_required', reason: 'invalid_grant' });
    const fixed = await api.call('PUT', `/v1/connections/${other.body.id}/grant`, {
      refresh_token: 'REFRESH-plaintext-new',
      access_token: 'ACCESS-plaintext-new',
      expires_in: 600,
    });
    expect(fixed.status).toBe(200);
    expect(fixed.body.status).toBe('active');
    expect((await api.call('GET', `/v1/connections/${other.body.id}/token`)).body.access_token).toBe(
      'ACCESS-plaintext-new',
    );
    const events = await api.call('GET', `/v1/connections/${other.body.id}/events`);
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['reauthorized', 'created']);
  });

  it('answers 409 for a duplicate (integration, tenant_id, external_id) and writes nothing', async () => {
    const before = await sql<{ n: number }>('SELECT count(*)::int AS n FROM connections');
    const res = await api.call('POST', '/v1/connections', grant({ refresh_token: 'other' }));
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('connection_exists');
    const after = await sql<{ n: number }>('SELECT count(*)::int AS n FROM connections');
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it.each([
    [grant({ integration: 'missing' }), 'integration'],
    [grant({ refresh_token: '' }), 'refresh_token'],
    [grant({ expires_in: -1 }), 'expires_in'],
    [grant({ expires_at: 'yesterday' }), 'expires_at'],
    [grant({ expires_at: new Date().toISOString() }), 'expires_in'],
    [grant({ scopes: 'read' }), 'scopes'],
    [grant({ tenant_id: undefined }), 'tenant_id'],
    [grant({ metadata: 'x' }), 'metadata'],
  ])('validates connection input (%#) naming the field, writing nothing', async (body, field) => {
    const before = await sql<{ n: number }>('SELECT count(*)::int AS n FROM connections');
    const res = await api.call('POST', '/v1/connections', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed', field });
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM connections'))[0]?.n).toBe(before[0]?.n);
  });

  it('answers 400 for a malformed id or query, 404 for an unknown id', async () => {
    expect((await api.call('GET', '/v1/connections/not-a-uuid/token')).body).toMatchObject({
      error: 'validation_failed',
      field: 'id',
    });
    const missing = await api.call('GET', '/v1/connections/6b0f2c1e-8a4d-4f3b-9c2e-1d5a7e9b0c3f/token');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('not_found');
    expect((await api.call('GET', `/v1/connections/${connectionId}/token?min_ttl=abc`)).body).toMatchObject({
      field: 'min_ttl',
    });
    expect((await api.call('GET', '/v1/connections?limit=0')).body).toMatchObject({ field: 'limit' });
    expect((await api.call('GET', '/v1/connections?cursor=zzz')).body).toMatchObject({ field: 'cursor' });
  });

  it('answers 413 for a body over the limit and 400 for invalid JSON', async () => {
    const big = await api.call(
      'POST',
      '/v1/connections',
      grant({ metadata: { blob: 'x'.repeat(70 * 1024) } }),
    );
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('payload_too_large');
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/connections',
      headers: { authorization: `Bearer ${api.adminKey}`, 'content-type': 'application/json' },
      payload: '{"integration":',
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'validation_failed' });
  });

  it('limits a tenant key to its tenant: other tenants are 404, lists are filtered', async () => {
    const b = await api.call('POST', '/v1/connections', grant({ tenant_id: 'tenant-b', external_id: 'b1' }));
    expect(b.status).toBe(201);
    const keyB = (
      await api.call('POST', '/v1/api-keys', {
        name: 'b',
        scopes: ['tokens:read', 'connections:read', 'connections:write'],
        tenant_id: 'tenant-b',
      })
    ).body.key as string;
    expect((await api.call('GET', `/v1/connections/${connectionId}`, undefined, keyB)).status).toBe(404);
    expect((await api.call('GET', `/v1/connections/${connectionId}/token`, undefined, keyB)).status).toBe(
      404,
    );
    expect((await api.call('DELETE', `/v1/connections/${connectionId}`, undefined, keyB)).status).toBe(404);
    expect((await api.call('GET', `/v1/connections/${b.body.id}/token`, undefined, keyB)).status).toBe(200);
    const list = await api.call('GET', '/v1/connections', undefined, keyB);
    expect(list.body.data.map((c: { tenant_id: string }) => c.tenant_id)).toEqual(['tenant-b']);
    const write = await api.call('POST', '/v1/connections', grant({ external_id: 'sneaky' }), keyB);
    expect(write.status).toBe(403);
  });

  it('lists with filters and cursor pagination, never a secret', async () => {
    for (let i = 0; i < 5; i++) {
      expect(
        (await api.call('POST', '/v1/connections', grant({ tenant_id: 'tenant-p', external_id: `p${i}` })))
          .status,
      ).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/connections?tenant_id=tenant-p&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api.call('GET', q);
      expect(page.status).toBe(200);
      expect(page.raw).not.toContain('plaintext');
      seen.push(...page.body.data.map((c: { external_id: string }) => c.external_id));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    const flagged = await api.call(
      'GET',
      '/v1/connections?status=needs_reauth&integration=acme-oauth&provider=oauth2',
    );
    expect(flagged.body.data).toEqual([]);
    const stats = await api.call('GET', '/v1/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.totals.active).toBeGreaterThanOrEqual(8);
  });

  it('keeps no token or client secret in plaintext in a pg_dump', () => {
    const dump = execFileSync('pg_dump', ['--data-only', '--dbname', api.db.url], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    expect(dump).toContain('acme-oauth');
    for (const secret of ['plaintext', 'CLIENT-SECRET', 'NEW-SECRET', 'REFRESH-', 'ACCESS-', api.adminKey]) {
      expect(dump.includes(secret)).toBe(false);
    }
    // Also not in hex (bytea) form.
    expect(dump.includes(Buffer.from('REFRESH-plaintext-0001').toString('hex'))).toBe(false);
  });

  it('refuses to delete an integration that has connections, then deletes a connection', async () => {
    const res = await api.call('DELETE', '/v1/integrations/acme-oauth');
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('integration_in_use');
    const del = await api.call('DELETE', `/v1/connections/${connectionId}`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ deleted: true, provider_revocation: 'not_supported' });
    expect((await api.call('GET', `/v1/connections/${connectionId}/token`)).status).toBe(404);
    expect(await sql('SELECT 1 FROM connections WHERE id = $1', [connectionId])).toEqual([]);
  });

  it('lists API keys without their value and revokes them', async () => {
    const created = await api.call('POST', '/v1/api-keys', { name: 'temp', scopes: ['connections:read'] });
    const list = await api.call('GET', '/v1/api-keys');
    expect(list.raw).not.toContain(created.body.key);
    expect((await api.call('GET', '/v1/integrations', undefined, created.body.key)).status).toBe(200);
    expect((await api.call('DELETE', `/v1/api-keys/${created.body.id}`)).status).toBe(204);
    expect((await api.call('GET', '/v1/integrations', undefined, created.body.key)).status).toBe(401);
    expect((await api.call('POST', '/v1/api-keys', { name: 'bad', scopes: ['root'] })).body).toMatchObject({
      field: 'scopes',
    });
  });

  it('serves health, readiness and Prometheus metrics without a key', async () => {
    expect((await api.call('GET', '/health/live', undefined, null)).status).toBe(200);
    const ready = await api.call('GET', '/health/ready', undefined, null);
    expect(ready.status).toBe(200);
    expect(ready.body.info).toMatchObject({
      postgres: { status: 'up' },
      redis: { status: 'up' },
      kms: { status: 'up' },
    });
    const metrics = await api.call('GET', '/metrics', undefined, null);
    expect(metrics.raw).toContain('vault_token_requests_total{');
    expect(metrics.raw).toContain('vault_token_request_duration_seconds_bucket');
    expect(metrics.raw).toContain('process_cpu_user_seconds_total');
    expect(metrics.raw).toMatch(/vault_kms_requests_total\{[^}]*operation="GenerateDataKey"[^}]*\} 1\n/);
  });

  it('matches the OpenAPI document committed in docs/openapi.json (npm run openapi rewrites it)', () => {
    const file = join(__dirname, '../../docs/openapi.json');
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(file, JSON.stringify(api.openapi, null, 2) + '\n');
    const committed = JSON.parse(readFileSync(file, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(api.openapi)));
  });

  it('answers an unexpected failure with 500, an errorId, and nothing internal', async () => {
    await sql('ALTER TABLE connection_events RENAME TO connection_events_gone');
    try {
      const res = await api.call('GET', '/v1/stats');
      expect(res.status).toBe(500);
      expect(res.body.error).toBe('internal_error');
      expect(res.body.errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.raw).not.toContain('connection_events');
    } finally {
      await sql('ALTER TABLE connection_events_gone RENAME TO connection_events');
    }
  });
});
