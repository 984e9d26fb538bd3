import { startTestApi, type TestApi } from '../utils/api';
import { startVaultProcess } from '../utils/processes';
import { createIntegration, httpCaller, query } from '../utils/refresh-fixtures';

const NEVER_MS = '3600000';

async function importFresh(api: { call: TestApi['call'] }, externalId: string): Promise<string> {
  const res = await api.call('POST', '/v1/connections', {
    integration: 'aud',
    tenant_id: 'tenant-1',
    external_id: externalId,
    refresh_token: `rt-${externalId}`,
    access_token: `at-${externalId}`,
    expires_in: 3600,
  });
  if (res.status !== 201) throw new Error(`import failed: ${res.status} ${res.raw}`);
  return res.body.id as string;
}

/** Writes what the API buffered (GET /v1/audit flushes first), then empties the table. */
async function resetAudit(api: TestApi): Promise<void> {
  expect((await api.call('GET', '/v1/audit')).status).toBe(200);
  await query(api.db.url, `DELETE FROM audit_log`);
}

async function auditRows(url: string) {
  return query<{ action: string; api_key_id: string | null; connection_id: string | null; count: number }>(
    url,
    `SELECT action, api_key_id, connection_id, count FROM audit_log ORDER BY id`,
  );
}

describe('audit trail of credential reads and management actions', () => {
  let api: TestApi;
  let adminKeyId: string;

  beforeAll(async () => {
    // The flush timer never fires during the test: every write below is a flush the test asked for.
    api = await startTestApi({ AUDIT_FLUSH_INTERVAL_MS: NEVER_MS });
    await createIntegration(api, {
      key: 'aud',
      provider: 'oauth2',
      client_id: 'c',
      client_secret: 's',
      token_url: 'http://127.0.0.1:9/token',
    });
    const keys = await api.call('GET', '/v1/api-keys');
    adminKeyId = keys.body.data[0].id as string;
  });
  afterAll(async () => {
    await api?.close();
  });

  it('aggregates token reads per API key and connection: no write per read, one row per pair with its count', async () => {
    const c1 = await importFresh(api, 'reads-1');
    const c2 = await importFresh(api, 'reads-2');
    const reader = await api.call('POST', '/v1/api-keys', { name: 'svc', scopes: ['tokens:read'] });
    await resetAudit(api);

    for (let i = 0; i < 25; i++)
      expect((await api.call('GET', `/v1/connections/${c1}/token`)).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await api.call('GET', `/v1/connections/${c2}/token`)).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      expect((await api.call('GET', `/v1/connections/${c1}/token`, undefined, reader.body.key)).status).toBe(
        200,
      );
    }
    // 32 reads, nothing written yet.
    expect(await auditRows(api.db.url)).toEqual([]);

    const page = await api.call('GET', `/v1/audit?connection_id=${c1}`);
    expect(page.status).toBe(200);
    expect(
      page.body.data.map((r: { api_key_id: string; count: number; action: string }) => [
        r.action,
        r.api_key_id,
        r.count,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['token.read', adminKeyId, 25],
        ['token.read', reader.body.id, 4],
      ]),
    );
    expect(page.body.data).toHaveLength(2);
    const row = page.body.data[0];
    expect(Date.parse(row.first_at)).toBeLessThanOrEqual(Date.parse(row.last_at));
    const reads = (await auditRows(api.db.url)).filter((r) => r.action === 'token.read');
    expect(reads.map((r) => r.count).sort((a, b) => a - b)).toEqual([3, 4, 25]);

    const byKey = await api.call('GET', `/v1/audit?api_key_id=${reader.body.id as string}`);
    expect(
      byKey.body.data.map((r: { connection_id: string; count: number }) => [r.connection_id, r.count]),
    ).toEqual([[c1, 4]]);
  });

  it('writes one row per management action, with the key that acted and what it acted on', async () => {
    await resetAudit(api);
    const key = await api.call('POST', '/v1/api-keys', { name: 'tmp', scopes: ['connections:read'] });
    expect((await api.call('DELETE', `/v1/api-keys/${key.body.id as string}`)).status).toBe(204);
    await createIntegration(api, {
      key: 'aud-2',
      provider: 'oauth2',
      client_id: 'c',
      client_secret: 's',
      token_url: 'http://127.0.0.1:9/token',
    });
    expect((await api.call('PATCH', '/v1/integrations/aud-2', { client_id: 'c2' })).status).toBe(200);
    expect((await api.call('DELETE', '/v1/integrations/aud-2')).status).toBe(204);
    const id = await importFresh(api, 'actions');
    expect((await api.call('PUT', `/v1/connections/${id}/grant`, { refresh_token: 'rt-2' })).status).toBe(
      200,
    );
    expect((await api.call('DELETE', `/v1/connections/${id}`)).status).toBe(200);
    // A refused action is not one: nothing recorded for it.
    expect((await api.call('DELETE', '/v1/integrations/no-such')).status).toBe(404);

    const page = await api.call('GET', '/v1/audit');
    const rows = page.body.data
      .map(
        (r: { action: string; api_key_id: string; target: string | null; connection_id: string | null }) => [
          r.action,
          r.api_key_id,
          r.target ?? r.connection_id,
        ],
      )
      .reverse();
    expect(rows).toEqual([
      ['api_key.created', adminKeyId, key.body.id],
      ['api_key.revoked', adminKeyId, key.body.id],
      ['integration.created', adminKeyId, 'aud-2'],
      ['integration.updated', adminKeyId, 'aud-2'],
      ['integration.deleted', adminKeyId, 'aud-2'],
      ['connection.imported', adminKeyId, id],
      ['connection.grant_replaced', adminKeyId, id],
      ['connection.deleted', adminKeyId, id],
    ]);
    expect(page.body.data.every((r: { count: number }) => r.count === 1)).toBe(true);
  });

  it('pages newest first, filters by since, and refuses bad input and non-admin keys', async () => {
    await resetAudit(api);
    await query(
      api.db.url,
      `INSERT INTO audit_log (action, api_key_id, target, first_at, last_at, created_at)
       SELECT 'api_key.created', $1, 'k' || n, t, t, t
       FROM generate_series(1, 5) n, LATERAL (SELECT now() - make_interval(days => 10 - n) AS t) x`,
      [adminKeyId],
    );
    const first = await api.call('GET', '/v1/audit?limit=2');
    expect(first.body.data.map((r: { target: string }) => r.target)).toEqual(['k5', 'k4']);
    const second = await api.call('GET', `/v1/audit?limit=2&cursor=${first.body.next_cursor as string}`);
    expect(second.body.data.map((r: { target: string }) => r.target)).toEqual(['k3', 'k2']);
    const last = await api.call('GET', `/v1/audit?limit=2&cursor=${second.body.next_cursor as string}`);
    expect(last.body).toMatchObject({ next_cursor: null });
    expect(last.body.data.map((r: { target: string }) => r.target)).toEqual(['k1']);

    const since = new Date(Date.now() - 7.5 * 86_400_000).toISOString();
    const recent = await api.call('GET', `/v1/audit?since=${since}`);
    expect(recent.body.data.map((r: { target: string }) => r.target)).toEqual(['k5', 'k4', 'k3']);

    for (const [q, field] of [
      ['connection_id=nope', 'connection_id'],
      ['api_key_id=1', 'api_key_id'],
      ['since=yesterday', 'since'],
      ['cursor=abc', 'cursor'],
    ] as const) {
      const res = await api.call('GET', `/v1/audit?${q}`);
      expect([res.status, res.body.error, res.body.field]).toEqual([400, 'validation_failed', field]);
    }
    const reader = await api.call('POST', '/v1/api-keys', { name: 'r', scopes: ['connections:read'] });
    const tenant = await api.call('POST', '/v1/api-keys', {
      name: 't',
      scopes: ['connections:read'],
      tenant_id: 'tenant-1',
    });
    for (const k of [reader.body.key, tenant.body.key]) {
      const res = await api.call('GET', '/v1/audit', undefined, k);
      expect([res.status, res.body.error]).toEqual([403, 'forbidden']);
    }
    expect((await api.call('GET', '/v1/audit', undefined, null)).status).toBe(401);
  });

  it('counts dropped rows when the bounded buffer is full', async () => {
    const small = await startTestApi({ AUDIT_FLUSH_INTERVAL_MS: NEVER_MS, AUDIT_BUFFER_MAX_ENTRIES: '2' });
    try {
      await createIntegration(small, {
        key: 'aud',
        provider: 'oauth2',
        client_id: 'c',
        client_secret: 's',
        token_url: 'http://127.0.0.1:9/token',
      });
      const ids = [
        await importFresh(small, 'd1'),
        await importFresh(small, 'd2'),
        await importFresh(small, 'd3'),
      ];
      await small.call('GET', '/v1/audit'); // writes what is buffered: the buffer is empty again
      const dropped = async () => {
        const raw = (await small.call('GET', '/metrics', undefined, null)).raw;
        return Number(/^vault_audit_rows_dropped_total\{process="vault-api"\} (\d+)$/m.exec(raw)?.[1]);
      };
      const before = await dropped();
      for (const id of ids) expect((await small.call('GET', `/v1/connections/${id}/token`)).status).toBe(200);
      expect((await dropped()) - before).toBe(1);
      const page = await small.call('GET', '/v1/audit?since=' + new Date(Date.now() - 60_000).toISOString());
      expect(page.body.data.filter((r: { action: string }) => r.action === 'token.read')).toHaveLength(2);
    } finally {
      await small.close();
    }
  });

  it('loses no row on a graceful shutdown: reads in a real API process, SIGTERM, the rows are there', async () => {
    const id = await importFresh(api, 'shutdown');
    await resetAudit(api);
    const proc = await startVaultProcess('api', {
      DATABASE_URL: api.db.url,
      REDIS_PREFIX: api.config.REDIS_PREFIX,
      LOCAL_KMS_KEY: api.config.LOCAL_KMS_KEY ?? '',
      BOOTSTRAP_API_KEY: api.adminKey,
      AUDIT_FLUSH_INTERVAL_MS: NEVER_MS,
    });
    try {
      const call = httpCaller(proc.url, api.adminKey);
      for (let i = 0; i < 7; i++) expect((await call('GET', `/v1/connections/${id}/token`)).status).toBe(200);
      expect((await call('PATCH', '/v1/integrations/aud', { client_id: 'c3' })).status).toBe(200);
      expect(await auditRows(api.db.url)).toEqual([]);
    } finally {
      await proc.stop();
    }
    // Nest re-raises SIGTERM after its shutdown hooks; a SIGKILL would mean the stop timed out.
    expect(proc.child.signalCode).toBe('SIGTERM');
    expect(await auditRows(api.db.url)).toEqual([
      { action: 'integration.updated', api_key_id: adminKeyId, connection_id: null, count: 1 },
      { action: 'token.read', api_key_id: adminKeyId, connection_id: id, count: 7 },
    ]);
  });
});
