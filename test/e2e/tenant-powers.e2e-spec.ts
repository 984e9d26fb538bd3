import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateApiKey, hashApiKey } from '@vault/core';
import { startTestApi, type TestApi } from '../utils/api';
import { query } from '../utils/refresh-fixtures';

const ROOT = join(__dirname, '..', '..');
const TENANT_SCOPES = ['tokens:read', 'connections:read', 'connections:write'];

/** Design section 6, "Who may do what": admin and integrations:write are platform powers. */
describe('who may do what: a tenant key never acts platform-wide (API over HTTP)', () => {
  let api: TestApi;
  let tenantKey: string;
  /** A row with a tenant and `admin`, as earlier versions let a platform admin create. */
  const storedTenantAdmin = generateApiKey();
  const integration = {
    key: 'acme',
    provider: 'oauth2',
    client_id: 'client-1',
    client_secret: 'CLIENT-SECRET-0001',
    token_url: 'http://127.0.0.1:9/token',
  };
  const grant = (tenant: string, external: string) => ({
    integration: 'acme',
    tenant_id: tenant,
    external_id: external,
    refresh_token: 'rt',
    access_token: 'at',
    expires_in: 3600,
  });

  beforeAll(async () => {
    api = await startTestApi();
    expect((await api.call('POST', '/v1/integrations', integration)).status).toBe(201);
    for (const [t, e] of [
      ['tenant-a', 'a1'],
      ['tenant-b', 'b1'],
    ] as const) {
      expect((await api.call('POST', '/v1/connections', grant(t, e))).status).toBe(201);
    }
    const created = await api.call('POST', '/v1/api-keys', {
      name: 'tenant a',
      scopes: TENANT_SCOPES,
      tenant_id: 'tenant-a',
    });
    expect(created.status).toBe(201);
    tenantKey = created.body.key as string;
    await query(
      api.db.url,
      `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, tenant_id, legacy_format)
       VALUES ($1, 'tenant admin', $2, $3, $4, 'tenant-a', false)`,
      [
        randomUUID(),
        hashApiKey(storedTenantAdmin),
        storedTenantAdmin.slice(0, 8),
        [...TENANT_SCOPES, 'integrations:write', 'admin'],
      ],
    );
  });
  afterAll(async () => {
    await api?.close();
  });

  it.each([['admin'], ['integrations:write']])(
    'refuses a tenant key holding %s with 400 naming scopes, and stores nothing',
    async (scope) => {
      const before = await query(api.db.url, 'SELECT count(*)::int AS n FROM api_keys');
      const res = await api.call('POST', '/v1/api-keys', {
        name: 'tenant power grab',
        scopes: ['tokens:read', scope],
        tenant_id: 'tenant-a',
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', field: 'scopes' });
      expect(await query(api.db.url, 'SELECT count(*)::int AS n FROM api_keys')).toEqual(before);
    },
  );

  it('still lets a platform admin give platform keys any scope, and tenant keys the tenant scopes', async () => {
    for (const body of [
      { name: 'platform ops', scopes: ['admin'] },
      { name: 'platform integrations', scopes: ['integrations:write'] },
      { name: 'tenant reader', scopes: ['connections:read'], tenant_id: 'tenant-b' },
    ]) {
      expect((await api.call('POST', '/v1/api-keys', body)).status).toBe(201);
    }
  });

  it.each([
    ['a tenant key', () => tenantKey],
    ['a stored row with a tenant and admin', () => storedTenantAdmin],
  ])('keeps %s away from key management and integration changes (403)', async (_, key) => {
    const k = key();
    const [someKey] = (await api.call('GET', '/v1/api-keys')).body.data as { id: string }[];
    const attempts: [Parameters<TestApi['call']>[0], string, unknown][] = [
      ['POST', '/v1/api-keys', { name: 'x', scopes: ['tokens:read'], tenant_id: 'tenant-a' }],
      ['POST', '/v1/api-keys', { name: 'x', scopes: ['admin'] }],
      ['GET', '/v1/api-keys', undefined],
      ['DELETE', `/v1/api-keys/${someKey?.id}`, undefined],
      ['POST', '/v1/integrations', { ...integration, key: 'evil' }],
      ['PATCH', '/v1/integrations/acme', { token_url: 'http://127.0.0.1:1/steal', client_secret: 'mine' }],
      ['DELETE', '/v1/integrations/acme', undefined],
      ['GET', '/v1/integrations/acme/events', undefined],
    ];
    for (const [method, url, body] of attempts) {
      const res = await api.call(method, url, body, k);
      expect({ method, url, status: res.status, error: res.body?.error }).toEqual({
        method,
        url,
        status: 403,
        error: 'forbidden',
      });
    }
    // Nothing changed.
    expect((await api.call('GET', '/v1/integrations/acme')).body.token_url).toBe(integration.token_url);
    expect((await api.call('GET', '/v1/integrations/evil')).status).toBe(404);
    expect(await query(api.db.url, 'SELECT 1 FROM api_keys WHERE revoked_at IS NOT NULL')).toEqual([]);
  });

  it('keeps even a stored tenant admin row inside its tenant for connections', async () => {
    const list = await api.call('GET', '/v1/connections', undefined, storedTenantAdmin);
    expect(list.status).toBe(200);
    expect(list.body.data.map((c: { tenant_id: string }) => c.tenant_id)).toEqual(['tenant-a']);
    const other = (await api.call('GET', '/v1/connections?tenant_id=tenant-b')).body.data[0] as {
      id: string;
    };
    expect(
      (await api.call('GET', `/v1/connections/${other.id}/token`, undefined, storedTenantAdmin)).status,
    ).toBe(404);
    expect(
      (await api.call('POST', '/v1/connections', grant('tenant-b', 'b2'), storedTenantAdmin)).status,
    ).toBe(403);
    expect(
      (await api.call('POST', '/v1/connections', grant('tenant-a', 'a2'), storedTenantAdmin)).status,
    ).toBe(201);
  });

  it('applies the same rule to keys made with the CLI', async () => {
    const cli = (...args: string[]) =>
      promisify(execFile)(
        process.execPath,
        ['-r', './test/utils/register-ts.js', 'apps/vault-api/src/cli.ts', 'create-api-key', ...args],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', DATABASE_URL: api.db.url },
        },
      ).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const refused = await cli(
      '--name',
      'cli tenant admin',
      '--scopes',
      'tokens:read,admin',
      '--tenant',
      'tenant-a',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('scopes');
    expect(await query(api.db.url, `SELECT 1 FROM api_keys WHERE name = 'cli tenant admin'`)).toEqual([]);
    const made = await cli('--name', 'cli tenant', '--scopes', 'tokens:read', '--tenant', 'tenant-a');
    expect(made.code).toBe(0);
    const key = (JSON.parse(made.stdout) as { key: string }).key;
    expect((await api.call('GET', '/v1/connections', undefined, key)).status).toBe(403);
  });
});
