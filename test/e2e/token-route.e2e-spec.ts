import { startTestApi, type TestApi } from '../utils/api';

/**
 * The token read is served by Fastify directly (TokenRoute), with a synchronous answer when the caller's key
 * and the connection's row are both in memory. Whatever path a request takes, the answer must be the one the
 * full path gives: these cases are asked once the cache is warm, where the first look would answer if it
 * were careless.
 */
describe('GET /v1/connections/:id/token, warm and cold alike (real API, PostgreSQL, Redis)', () => {
  let api: TestApi;
  let connectionId: string;
  let readerA: string;
  let readerB: string;
  let listerA: string;

  const metric = async (name: string, labels: string): Promise<number> => {
    const text = (await api.call('GET', '/metrics', undefined, null)).raw;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels},`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const read = (query = '', key: string | null = readerA, id = connectionId) =>
    api.call('GET', `/v1/connections/${id}/token${query}`, undefined, key);
  const key = async (scopes: string[], tenant: string) => {
    const res = await api.call('POST', '/v1/api-keys', { name: 'k', scopes, tenant_id: tenant });
    expect(res.status).toBe(201);
    return res.body.key as string;
  };

  beforeAll(async () => {
    // A long maximum age: a row read once stays in memory for the whole test.
    api = await startTestApi({ TOKEN_CACHE_MAX_AGE_MS: '60000' });
    expect(
      (
        await api.call('POST', '/v1/integrations', {
          key: 'acme',
          provider: 'oauth2',
          client_id: 'c',
          client_secret: 's',
          token_url: 'http://127.0.0.1:9/token',
        })
      ).status,
    ).toBe(201);
    const created = await api.call('POST', '/v1/connections', {
      integration: 'acme',
      tenant_id: 'tenant-a',
      external_id: 'u1',
      refresh_token: 'REFRESH-1',
      access_token: 'ACCESS-1',
      expires_in: 3600,
      scopes: ['read'],
    });
    expect(created.status).toBe(201);
    connectionId = created.body.id as string;
    readerA = await key(['tokens:read'], 'tenant-a');
    readerB = await key(['tokens:read'], 'tenant-b');
    listerA = await key(['connections:read'], 'tenant-a');
    // Warm: the reader's key verified, the row cached (the cache is live once subscribed to invalidations).
    const hitsBefore = await metric('vault_token_cache_total', 'result="hit"');
    for (let i = 0; i < 50 && (await metric('vault_token_cache_total', 'result="hit"')) === hitsBefore; i++) {
      expect((await read()).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await metric('vault_token_cache_total', 'result="hit"')).toBeGreaterThan(hitsBefore);
    // The other keys verified too (their principals are in memory for the cases below).
    expect((await read('', readerB)).status).toBe(404);
    expect((await api.call('GET', '/v1/connections', undefined, listerA)).status).toBe(200);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers a warm read from memory with the same answer, headers and counters as a cold one', async () => {
    const hits = await metric('vault_token_cache_total', 'result="hit"');
    const successes = await metric('vault_token_requests_total', 'outcome="success"');
    const res = await read('?min_ttl=60');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      connection_id: connectionId,
      access_token: 'ACCESS-1',
      token_type: 'Bearer',
      expires_at: expect.any(String),
      scopes: ['read'],
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(await metric('vault_token_cache_total', 'result="hit"')).toBe(hits + 1);
    expect(await metric('vault_token_requests_total', 'outcome="success"')).toBe(successes + 1);
    // An upper-case ID is the same connection.
    expect((await read('', readerA, connectionId.toUpperCase())).body.access_token).toBe('ACCESS-1');
  });

  it("keeps another tenant's key out of a cached row (404), and a key without tokens:read (403)", async () => {
    expect((await read('', readerB)).body).toMatchObject({ error: 'not_found' });
    const forbidden = await read('', listerA);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ error: 'forbidden', required_scope: 'tokens:read' });
  });

  it('refuses keys and parameters as the full path does, though the row is cached', async () => {
    expect((await read('', null)).body).toMatchObject({ error: 'unauthorized' });
    expect((await read('', 'vk_not-a-key')).status).toBe(401);
    for (const q of [
      '?min_ttl=abc',
      '?min_ttl=86401',
      '?min_ttl=-1',
      '?min_ttl=1&min_ttl=2',
      '?min_ttl=%00',
    ]) {
      const res = await read(q);
      expect({ q, status: res.status, error: res.body?.error, field: res.body?.field }).toEqual({
        q,
        status: 400,
        error: 'validation_failed',
        field: 'min_ttl',
      });
    }
    expect((await read('', readerA, 'not-a-uuid')).body).toMatchObject({
      error: 'validation_failed',
      field: 'id',
    });
  });

  it('answers from the stored row when the cached one does not meet min_ttl (here: 503, no provider)', async () => {
    const res = await read('?min_ttl=7200');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'provider_unavailable' });
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('stops answering a deleted connection at once', async () => {
    expect((await read()).status).toBe(200);
    expect((await api.call('DELETE', `/v1/connections/${connectionId}`)).status).toBe(200);
    expect((await read()).body).toMatchObject({ error: 'not_found' });
  });
});
