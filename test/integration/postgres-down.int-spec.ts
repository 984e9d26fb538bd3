import { startTestApi, type TestApi } from '../utils/api';
import { PG_ADMIN_URL } from '../utils/database';
import { createIntegration, query } from '../utils/refresh-fixtures';
import { hostPort, startTcpProxy, type TcpProxy } from '../utils/tcp-proxy';

/** Design 6b: PostgreSQL unreachable → 503 `unavailable` + Retry-After, readiness red, nothing half-written. */
describe('PostgreSQL unreachable', () => {
  let proxy: TcpProxy;
  let api: TestApi;
  let connectionId: string;

  const importGrant = (externalId: string) =>
    api.call('POST', '/v1/connections', {
      integration: 'pgdown',
      tenant_id: 'tenant-1',
      external_id: externalId,
      refresh_token: `rt-${externalId}`,
      access_token: `at-${externalId}`,
      expires_in: 3600,
    });

  beforeAll(async () => {
    proxy = await startTcpProxy(hostPort(PG_ADMIN_URL, 5432));
    api = await startTestApi({}, { databaseUrl: (url) => proxy.url(url) });
    await createIntegration(api, {
      key: 'pgdown',
      provider: 'oauth2',
      client_id: 'c',
      client_secret: 's',
      token_url: 'http://127.0.0.1:9/token',
    });
    const res = await importGrant('before');
    expect(res.status).toBe(201);
    connectionId = res.body.id as string;
  });
  afterAll(async () => {
    proxy?.restore();
    await api?.close();
    await proxy?.close();
  });

  it('answers reads and writes 503 unavailable with Retry-After during the cut, readiness 503, and normally after', async () => {
    expect(proxy.openConnections).toBeGreaterThan(0);
    proxy.cut();

    const during = [
      await api.call('GET', `/v1/connections/${connectionId}/token`),
      await api.call('GET', `/v1/connections/${connectionId}`),
      await api.call('GET', '/v1/connections'),
      await api.call('GET', '/v1/stats'),
      await importGrant('during'),
      await api.call('PATCH', '/v1/integrations/pgdown', { scopes: ['x'] }),
      await api.call('POST', '/v1/api-keys', { name: 'k', scopes: ['tokens:read'] }),
      await api.call('DELETE', `/v1/connections/${connectionId}`),
    ];
    for (const res of during) {
      expect({ status: res.status, error: res.body?.error }).toEqual({ status: 503, error: 'unavailable' });
      expect(res.body.retry_after).toBeGreaterThan(0);
      expect(res.headers['retry-after']).toBe(String(res.body.retry_after));
      expect(res.body.message).toEqual(expect.any(String));
    }
    const ready = await api.call('GET', '/health/ready', undefined, null);
    expect(ready.status).toBe(503);
    expect(ready.body.details.postgres.status).toBe('down');

    proxy.restore();

    const token = await api.call('GET', `/v1/connections/${connectionId}/token`);
    expect(token.status).toBe(200);
    expect(token.body.access_token).toBe('at-before');
    expect((await importGrant('after')).status).toBe(201);
    expect((await api.call('GET', '/health/ready', undefined, null)).status).toBe(200);

    // Nothing the refused writes asked for happened.
    const rows = await query<{ external_id: string; scopes: string[] }>(
      api.db.url,
      `SELECT c.external_id, i.scopes FROM connections c JOIN integrations i ON i.id = c.integration_id
       ORDER BY c.created_at`,
    );
    expect(rows).toEqual([
      { external_id: 'before', scopes: [] },
      { external_id: 'after', scopes: [] },
    ]);
    const keys = await query(api.db.url, `SELECT name FROM api_keys WHERE name = 'k'`);
    expect(keys).toEqual([]);
  });
});
