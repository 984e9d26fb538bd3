import { startTestApi, type TestApi } from '../utils/api';

/** API keys and integrations page like connections: `cursor`, `limit` (1..500), keyset on (created_at, id). */
describe('lists of API keys and integrations are cursor-paginated (API over HTTP)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
    for (let i = 0; i < 7; i++) {
      expect(
        (await api.call('POST', '/v1/api-keys', { name: `key-${i}`, scopes: ['tokens:read'] })).status,
      ).toBe(201);
      expect(
        (
          await api.call('POST', '/v1/integrations', {
            key: `int-${i}`,
            provider: 'oauth2',
            client_id: 'c',
            client_secret: 'SECRET-0001',
            token_url: 'http://127.0.0.1:9/token',
          })
        ).status,
      ).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.close();
  });

  async function walk(path: string, limit: number, name: (row: Record<string, unknown>) => string) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api.call('GET', `${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.raw).not.toContain('SECRET-');
      const data = res.body.data as Record<string, unknown>[];
      expect(data.length).toBeLessThanOrEqual(limit);
      seen.push(...data.map(name));
      cursor = res.body.next_cursor as string | null;
      pages++;
    } while (cursor);
    return { seen, pages };
  }

  it('walks every API key once, oldest first, in pages of the given size', async () => {
    const { seen, pages } = await walk('/v1/api-keys', 3, (r) => r.name as string);
    expect(seen).toEqual(['bootstrap', ...Array.from({ length: 7 }, (_, i) => `key-${i}`)]);
    expect(pages).toBe(3);
    const first = await api.call('GET', '/v1/api-keys?limit=2');
    expect(first.body.next_cursor).toEqual(expect.any(String));
  });

  it('walks every integration once, oldest first, in pages of the given size', async () => {
    const { seen, pages } = await walk('/v1/integrations', 2, (r) => r.key as string);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `int-${i}`));
    expect(pages).toBe(4);
    const all = await api.call('GET', '/v1/integrations');
    expect(all.body.data).toHaveLength(7);
    expect(all.body.next_cursor).toBeNull();
  });

  it.each(['/v1/api-keys', '/v1/integrations'])(
    'answers 400 naming the field for a bad limit or cursor on %s',
    async (path) => {
      for (const [q, field] of [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['limit=abc', 'limit'],
        ['cursor=zzz', 'cursor'],
        [`cursor=${'a'.repeat(201)}`, 'cursor'],
      ] as const) {
        const res = await api.call('GET', `${path}?${q}`);
        expect({ q, status: res.status, body: res.body }).toMatchObject({
          q,
          status: 400,
          body: { error: 'validation_failed', field },
        });
      }
    },
  );
});
