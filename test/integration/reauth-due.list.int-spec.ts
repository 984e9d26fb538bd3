import { ReauthDueWatch } from '@vault/core';
import { startTestApi, type TestApi } from '../utils/api';
import { createIntegration, query } from '../utils/refresh-fixtures';

interface DueRow {
  id: string;
  tenant_id: string;
  integration: string;
  provider: string;
  status: string;
  reauth_due_at: string;
  events: string;
}

/**
 * `GET /v1/stats/reauth-due` over HTTP against real PostgreSQL: the connections the worker's reauth-due watch
 * flagged (their refresh token dies within REAUTH_WARNING_DAYS), soonest death first, cursor-paginated,
 * filtered, limited to a tenant key's tenant, counted by `GET /v1/stats`; bad parameters answer 400 with a code.
 */
describe('connections whose refresh token dies soon (API)', () => {
  let api: TestApi;
  let globexKey = '';
  /** The flagged connections' ids, soonest death first, as the database orders them. */
  let expected: { id: string; tenant_id: string; integration: string }[] = [];

  beforeAll(async () => {
    api = await startTestApi({ REAUTH_WARNING_DAYS: '7' });
    await createIntegration(api, {
      key: 'google-prod',
      provider: 'google',
      client_id: 'c',
      client_secret: 's',
    });
    await createIntegration(api, {
      key: 'slack-prod',
      provider: 'slack',
      client_id: 'c',
      client_secret: 's',
    });
    // n 1..12: refresh token dying within 7 days, in an order unlike their creation ((5n mod 13) + 1) × 10 h;
    // tenant acme (odd n) or globex (even n); slack-prod when n % 3 = 0. n 13..14: dying in 10 days (outside
    // the window); n 15: revoked; n 16: no known death. Only 1..12 get flagged.
    await query(
      api.db.url,
      `INSERT INTO connections (id, integration_id, tenant_id, external_id, status, refresh_token_sealed,
         refresh_token_expires_at, created_at)
       SELECT gen_random_uuid(),
         (SELECT id FROM integrations WHERE key = CASE WHEN n % 3 = 0 THEN 'slack-prod' ELSE 'google-prod' END),
         CASE WHEN n % 2 = 1 THEN 'acme' ELSE 'globex' END, 'user-' || n,
         CASE WHEN n = 15 THEN 'revoked' WHEN n = 4 THEN 'refresh_failing' ELSE 'active' END, '\\x00'::bytea,
         CASE WHEN n <= 12 OR n = 15 THEN now() + make_interval(hours => ((5 * n) % 13 + 1) * 10)
              WHEN n <= 14 THEN now() + interval '10 days' END,
         now() - make_interval(mins => 20 - n)
       FROM generate_series(1, 16) n`,
    );
    expect(await api.app.get(ReauthDueWatch).check()).toBe(12);
    expected = await query(
      api.db.url,
      `SELECT c.id, c.tenant_id, i.key AS integration FROM connections c JOIN integrations i ON i.id = c.integration_id
       WHERE c.external_id = ANY($1) ORDER BY c.refresh_token_expires_at`,
      [Array.from({ length: 12 }, (_, i) => `user-${i + 1}`)],
    );
    const key = await api.call('POST', '/v1/api-keys', {
      name: 'globex-dash',
      scopes: ['connections:read'],
      tenant_id: 'globex',
    });
    globexKey = key.body.key as string;
  });
  afterAll(async () => {
    await api?.close();
  });

  /** Every page of `path` (a query string included) with `key`, the cursor of each next page followed. */
  async function walk(path: string, key: string = api.adminKey) {
    const rows: DueRow[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await api.call('GET', `${path}${cursor ? `&cursor=${cursor}` : ''}`, undefined, key);
      expect(res.status).toBe(200);
      rows.push(...(res.body.data as DueRow[]));
      sizes.push((res.body.data as DueRow[]).length);
      cursor = res.body.next_cursor as string | null;
    } while (cursor);
    return { rows, sizes };
  }

  it('walks every flagged connection once, soonest death first, in pages of the given size', async () => {
    const { rows, sizes } = await walk('/v1/stats/reauth-due?limit=5');
    expect(sizes).toEqual([5, 5, 2]);
    expect(rows.map((r) => r.id)).toEqual(expected.map((e) => e.id));
    const due = rows.map((r) => Date.parse(r.reauth_due_at));
    expect(due).toEqual([...due].sort((a, b) => a - b));
    // The soonest dies in 20 hours ((5 × 8) mod 13 + 1 = 2), the latest in 130.
    expect(Math.round((due[0]! - Date.now()) / 3600_000)).toBe(20);
    expect(Math.round((due[11]! - Date.now()) / 3600_000)).toBe(130);
    // Metadata only, and the link to the connection's events, which hold the watch's reauth_due event.
    expect(Object.keys(rows[0]!).sort()).toEqual([
      'events',
      'id',
      'integration',
      'provider',
      'reauth_due_at',
      'status',
      'tenant_id',
    ]);
    expect(rows.find((r) => r.status === 'refresh_failing')?.tenant_id).toBe('globex');
    const events = await api.call('GET', rows[0]!.events);
    expect(events.body.data.map((e: { type: string }) => e.type)).toContain('reauth_due');
    expect((await api.call('GET', '/v1/stats')).body.reauth_due).toBe(12);
  });

  it('filters by integration, provider, tenant and death before a time', async () => {
    const slack = await walk('/v1/stats/reauth-due?integration=slack-prod&limit=500');
    expect(slack.rows.map((r) => r.id)).toEqual(
      expected.filter((e) => e.integration === 'slack-prod').map((e) => e.id),
    );
    const google = await walk('/v1/stats/reauth-due?provider=google&tenant_id=acme&limit=500');
    expect(google.rows.map((r) => r.id)).toEqual(
      expected.filter((e) => e.integration === 'google-prod' && e.tenant_id === 'acme').map((e) => e.id),
    );
    // Dying within 50 hours: the 20, 30, 40 and 50-hour ones.
    const before = new Date(Date.now() + 55 * 3600_000).toISOString();
    const soon = await walk(`/v1/stats/reauth-due?before=${before}&limit=500`);
    expect(soon.rows.map((r) => r.id)).toEqual(expected.slice(0, 4).map((e) => e.id));
    expect((await api.call('GET', '/v1/stats?integration=slack-prod')).body.reauth_due).toBe(4);
  });

  it("shows a tenant key its tenant's connections only, even when it asks for another tenant", async () => {
    const own = await walk('/v1/stats/reauth-due?limit=4', globexKey);
    expect(own.sizes).toEqual([4, 2]);
    expect(own.rows.map((r) => r.id)).toEqual(
      expected.filter((e) => e.tenant_id === 'globex').map((e) => e.id),
    );
    const other = await api.call('GET', '/v1/stats/reauth-due?tenant_id=acme', undefined, globexKey);
    expect([other.status, other.body.data, other.body.next_cursor]).toEqual([200, [], null]);
    expect((await api.call('GET', '/v1/stats', undefined, globexKey)).body.reauth_due).toBe(6);
  });

  it('answers 400 with a code naming the parameter for bad input, 401 and 403 for a wrong key', async () => {
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['cursor=nope', 'cursor'],
      ['before=tomorrow', 'before'],
      ['provider=nope', 'provider'],
      ['status=active', 'status'],
    ] as const) {
      const res = await api.call('GET', `/v1/stats/reauth-due?${q}`);
      expect([res.status, res.body.error, res.body.field]).toEqual([400, 'validation_failed', field]);
    }
    expect((await api.call('GET', '/v1/stats/reauth-due', undefined, null)).status).toBe(401);
    const tokensOnly = await api.call('POST', '/v1/api-keys', { name: 'tokens', scopes: ['tokens:read'] });
    const refused = await api.call('GET', '/v1/stats/reauth-due', undefined, tokensOnly.body.key as string);
    expect([refused.status, refused.body.error]).toEqual([403, 'forbidden']);
  });
});
