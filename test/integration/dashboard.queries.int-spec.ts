import { Database, DashboardRepository, ALL_TENANTS } from '@vault/persistence';
import { startTestApi, type TestApi } from '../utils/api';
import { createIntegration, query } from '../utils/refresh-fixtures';

const ROWS = 100_000;
const HOUR_MS = 3600_000;

/**
 * 100,000 connections (2 % broken, 4 % with a refresh token dying soon, 50 tenants, three integrations; and 20
 * more of a fourth integration, all dying soon) and
 * 60,000 refresh attempts (a third in the last 24 hours): the dashboard's reads answer what a person sees,
 * and each reads its own index.
 */
describe('dashboard reads over 100,000 connections', () => {
  let api: TestApi;
  let db: Database;

  beforeAll(async () => {
    api = await startTestApi();
    for (const [key, provider] of [
      ['goog', 'google'],
      ['slk', 'slack'],
      ['std', 'oauth2'],
      ['tiny', 'github'],
    ] as const) {
      await createIntegration(api, {
        key,
        provider,
        client_id: 'c',
        client_secret: 's',
        token_url: 'http://127.0.0.1:9/token',
      });
    }
    // Broken: n % 50 = 0 → needs_reauth (invalid_grant), n % 50 = 1 → refresh_failing; first failure n minutes
    // ago. Integration by n % 3 (goog, slk, std), tenant by n % 50 … so tenant-0 holds all the needs_reauth rows
    // and tenant-1 all the refresh_failing ones. Refresh token dying soon (4,348 rows): n % 23 = 2, spread over
    // every tenant (about 87 each) and integration, n minutes from now, so the soonest is n = 2.
    await query(
      api.db.url,
      `INSERT INTO connections (id, integration_id, tenant_id, external_id, status, status_reason,
         refresh_token_sealed, refresh_failures, failing_since, created_at, refresh_token_expires_at, reauth_due_at)
       SELECT gen_random_uuid(), ints.ids[1 + n % 3], 'tenant-' || (n % 50), 'ext-' || n,
         CASE n % 50 WHEN 0 THEN 'needs_reauth' WHEN 1 THEN 'refresh_failing' ELSE 'active' END,
         CASE n % 50 WHEN 0 THEN 'invalid_grant' WHEN 1 THEN 'transient' END,
         '\\x00'::bytea, CASE WHEN n % 50 < 2 THEN 1 + n % 7 ELSE 0 END,
         now() - make_interval(mins => n), now() - make_interval(secs => n),
         CASE WHEN n % 23 = 2 THEN now() + make_interval(mins => n) END,
         CASE WHEN n % 23 = 2 THEN now() + make_interval(mins => n) END
       FROM generate_series(1, ${ROWS}) n,
         (SELECT array_agg(id ORDER BY key) AS ids FROM integrations) ints`,
    );
    // A small integration: 20 active connections of tenant-5, each with a refresh token dying in n days.
    await query(
      api.db.url,
      `INSERT INTO connections (id, integration_id, tenant_id, external_id, status, refresh_token_sealed,
         refresh_token_expires_at, reauth_due_at)
       SELECT gen_random_uuid(), (SELECT id FROM integrations WHERE key = 'tiny'), 'tenant-5', 'tiny-' || n,
         'active', '\\x00'::bytea, now() + make_interval(days => n), now() + make_interval(days => n)
       FROM generate_series(1, 20) n`,
    );
    // Attempts: 20,000 within the last 24 h (every 4.32 s), 40,000 older; outcome by n % 10.
    await query(
      api.db.url,
      `INSERT INTO refresh_attempts (id, connection_id, trigger, connection_version, refresh_token_fingerprint,
         started_at, finished_at, outcome)
       SELECT gen_random_uuid(), c.id, 'scheduled', 1, 'fp', t, t,
         CASE WHEN n % 10 = 0 THEN 'transient' WHEN n % 10 = 1 THEN 'reauth_required' ELSE 'success' END
       FROM generate_series(1, 60000) n
       JOIN LATERAL (SELECT now() - make_interval(secs => n * 4.32) AS t) x ON true
       JOIN LATERAL (SELECT id FROM connections ORDER BY id LIMIT 1 OFFSET n % 1000) c ON true`,
    );
    await query(api.db.url, 'VACUUM ANALYZE connections');
    await query(api.db.url, 'VACUUM ANALYZE refresh_attempts');
    db = Database.connect({ url: api.db.url, poolSize: 1 });
  });
  afterAll(async () => {
    await db?.close();
    await api?.close();
  });

  it('counts and lists broken connections by integration, status and reason, filtered and paginated', async () => {
    const stats = await api.call('GET', '/v1/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.totals).toEqual({
      active: 96_020,
      needs_reauth: 2000,
      refresh_failing: 2000,
      revoked: 0,
    });
    const groups = stats.body.broken as {
      integration: string;
      status: string;
      reason: string;
      count: number;
    }[];
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(4000);
    expect(groups.find((g) => g.integration === 'goog' && g.status === 'needs_reauth')).toMatchObject({
      provider: 'google',
      reason: 'invalid_grant',
    });

    const filtered = await api.call('GET', '/v1/stats?integration=slk');
    expect(filtered.body.totals.needs_reauth + filtered.body.totals.refresh_failing).toBe(
      groups.filter((g) => g.integration === 'slk').reduce((n, g) => n + g.count, 0),
    );

    const page1 = await api.call('GET', '/v1/stats/broken?limit=3&status=needs_reauth');
    expect(page1.status).toBe(200);
    expect(page1.body.data).toHaveLength(3);
    const first = page1.body.data[0];
    expect(first).toMatchObject({
      status: 'needs_reauth',
      status_reason: 'invalid_grant',
      tenant_id: 'tenant-0',
    });
    expect(first.events).toBe(`/v1/connections/${first.id as string}/events`);
    // Most recent first failure first: n = 50 failed 50 minutes ago.
    expect(Date.now() - Date.parse(first.failing_since)).toBeGreaterThan(49 * 60_000);
    expect(Date.now() - Date.parse(first.failing_since)).toBeLessThan(52 * 60_000);
    const page2 = await api.call(
      'GET',
      `/v1/stats/broken?limit=3&status=needs_reauth&cursor=${page1.body.next_cursor}`,
    );
    const times = [...page1.body.data, ...page2.body.data].map((c: { failing_since: string }) =>
      Date.parse(c.failing_since),
    );
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set([...page1.body.data, ...page2.body.data].map((c: { id: string }) => c.id)).size).toBe(6);

    const tenantOne = await api.call('GET', '/v1/stats/broken?tenant_id=tenant-1&provider=slack&limit=500');
    expect(tenantOne.body.data.length).toBeGreaterThan(0);
    expect(
      tenantOne.body.data.every(
        (c: { tenant_id: string; provider: string; status: string }) =>
          c.tenant_id === 'tenant-1' && c.provider === 'slack' && c.status === 'refresh_failing',
      ),
    ).toBe(true);

    for (const [q, field] of [
      ['status=active', 'status'],
      ['cursor=nope', 'cursor'],
      ['provider=nope', 'provider'],
    ] as const) {
      const res = await api.call('GET', `/v1/stats/broken?${q}`);
      expect([res.status, res.body.error, res.body.field]).toEqual([400, 'validation_failed', field]);
    }
  });

  it('lists the connections whose refresh token dies soon, soonest first, filtered and paginated, and counts them', async () => {
    const stats = await api.call('GET', '/v1/stats');
    expect(stats.body.reauth_due).toBe(4368);
    // n % 23 = 2, n % 50 = 27 and n % 3 = 0 (goog): one n in each 3,450.
    expect((await api.call('GET', '/v1/stats?tenant_id=tenant-27&provider=google')).body.reauth_due).toBe(29);
    const page1 = await api.call('GET', '/v1/stats/reauth-due?limit=3');
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((c: { tenant_id: string }) => c.tenant_id)).toEqual([
      'tenant-2',
      'tenant-25',
      'tenant-48',
    ]);
    const first = page1.body.data[0];
    expect(first.events).toBe(`/v1/connections/${first.id as string}/events`);
    expect(Math.abs(Date.parse(first.reauth_due_at) - Date.now() - 2 * 60_000)).toBeLessThan(5 * 60_000);
    const page2 = await api.call('GET', `/v1/stats/reauth-due?limit=3&cursor=${page1.body.next_cursor}`);
    const due = [...page1.body.data, ...page2.body.data].map((c: { reauth_due_at: string }) =>
      Date.parse(c.reauth_due_at),
    );
    expect(due).toEqual([...due].sort((a, b) => a - b));
    expect(new Set([...page1.body.data, ...page2.body.data].map((c: { id: string }) => c.id)).size).toBe(6);

    const slk = await api.call('GET', '/v1/stats/reauth-due?integration=slk&tenant_id=tenant-27&limit=500');
    expect(slk.body.data).toHaveLength(29);
    expect(
      slk.body.data.every(
        (c: { tenant_id: string; integration: string }) =>
          c.tenant_id === 'tenant-27' && c.integration === 'slk',
      ),
    ).toBe(true);
    // n ≤ 1,000 minutes from now: n = 2 + 23k, k = 0..43 (the next, n = 1,013, is 13 minutes later).
    const soon = new Date(Date.now() + 1000 * 60_000).toISOString();
    const before = await api.call('GET', `/v1/stats/reauth-due?before=${soon}&limit=500`);
    expect(before.body.data).toHaveLength(44);
  });

  it('keeps failing_since on status changes: set on breaking, kept between broken statuses, cleared on recovery', async () => {
    const [c] = await query<{ id: string }>(
      api.db.url,
      `SELECT id FROM connections WHERE status = 'active' LIMIT 1`,
    );
    const since = async () =>
      (
        await query<{ f: Date | null }>(
          api.db.url,
          `SELECT failing_since AS f FROM connections WHERE id = $1`,
          [c?.id],
        )
      )[0]?.f;
    const setStatus = (status: string) =>
      query(api.db.url, `UPDATE connections SET status = $2, updated_at = now() WHERE id = $1`, [
        c?.id,
        status,
      ]);
    expect(await since()).toBeNull();
    await setStatus('refresh_failing');
    const first = await since();
    expect(first).toBeInstanceOf(Date);
    await setStatus('needs_reauth');
    expect(await since()).toEqual(first);
    await setStatus('active');
    expect(await since()).toBeNull();
  });

  it('answers refresh outcomes per hour over the last 24 hours', async () => {
    const res = await api.call('GET', '/v1/stats/refresh-outcomes');
    expect(res.status).toBe(200);
    expect(res.body.bucket_seconds).toBe(3600);
    expect(res.body.buckets).toHaveLength(24);
    expect(res.body.outcomes).toEqual(['reauth_required', 'success', 'transient']);
    const total = (res.body.buckets as { counts: Record<string, number> }[]).reduce(
      (n, b) => n + Object.values(b.counts).reduce((a, c) => a + c, 0),
      0,
    );
    // One attempt every 4.32 s up to the seeding (a few seconds to a minute ago); the window starts on the
    // hour 23 hours back.
    const windowMs = Date.now() - Date.parse(res.body.from);
    expect(total).toBeLessThanOrEqual(windowMs / 4320 + 1);
    expect(total).toBeGreaterThan((windowMs - 120_000) / 4320);
    expect(Date.parse(res.body.buckets[23].at)).toBe(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
    const bad = await api.call('GET', '/v1/stats/refresh-outcomes?hours=0');
    expect([bad.status, bad.body.field]).toEqual([400, 'hours']);
  });

  it('reads through the indexes: EXPLAIN of every dashboard query names its index', async () => {
    interface PlanNode {
      'Node Type': string;
      'Relation Name'?: string;
      'Index Name'?: string;
      Plans?: PlanNode[];
    }
    let nodes: PlanNode[] = [];
    const walk = (n: PlanNode): void => {
      nodes.push(n);
      for (const c of n.Plans ?? []) walk(c);
    };
    // The repository's own SQL, run as EXPLAIN on the seeded database.
    const explaining = {
      query: async (text: string, values?: readonly unknown[]) => {
        const [row] = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
          `EXPLAIN (FORMAT JSON) ${text}`,
          values,
        );
        for (const p of row?.['QUERY PLAN'] ?? []) walk(p.Plan);
        return [];
      },
    } as unknown as Database;
    const repo = new DashboardRepository(explaining);
    const scans = async (run: () => Promise<unknown>) => {
      nodes = [];
      await run();
      return {
        indexes: nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : [])),
        seqScans: nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']),
      };
    };
    const tenant = { tenantId: 'tenant-7' };
    const since = new Date(Date.now() - 24 * HOUR_MS);

    const list = await scans(() => repo.broken(ALL_TENANTS, {}, null, 51));
    expect(list.indexes).toContain('connections_broken_idx');
    const tenantList = await scans(() => repo.broken(tenant, {}, null, 51));
    expect(tenantList.indexes).toContain('connections_broken_tenant_idx');
    const groups = await scans(() => repo.brokenGroups(ALL_TENANTS, {}));
    expect(groups.indexes.some((i) => i.startsWith('connections_broken_'))).toBe(true);
    const tenantGroups = await scans(() => repo.brokenGroups(tenant, {}));
    expect(tenantGroups.indexes).toContain('connections_broken_tenant_idx');
    const outcomes = await scans(() => repo.refreshOutcomes(ALL_TENANTS, {}, since));
    expect(outcomes.indexes).toContain('refresh_attempts_started_idx');
    const tenantOutcomes = await scans(() => repo.refreshOutcomes(tenant, {}, since));
    expect(tenantOutcomes.indexes).toContain('refresh_attempts_started_idx');
    expect(tenantOutcomes.indexes.some((i) => /^connections_(pkey|tenant_idx)$/.test(i))).toBe(true);
    // A later page (keyset past a row ten minutes from now) of every tenant; a tenant holding flagged rows.
    const after = {
      createdAt: new Date(Date.now() + 600_000).toISOString().replace('Z', '000Z'),
      id: '00000000-0000-0000-0000-000000000000',
    };
    const due = await scans(() => repo.reauthDue(ALL_TENANTS, {}, after, 51));
    expect(due.indexes).toContain('connections_reauth_due_list_idx');
    const tenantDue = await scans(() => repo.reauthDue({ tenantId: 'tenant-27' }, {}, after, 51));
    expect(tenantDue.indexes).toContain('connections_reauth_due_tenant_idx');
    // An integration holding a third of the flagged rows may walk either index; a small one reads its own.
    const integrationDue = await scans(() =>
      repo.reauthDue(ALL_TENANTS, { integrationKey: 'goog' }, null, 51),
    );
    expect(integrationDue.indexes.some((i) => i.startsWith('connections_reauth_due_'))).toBe(true);
    const smallIntegrationDue = await scans(() =>
      repo.reauthDue(ALL_TENANTS, { integrationKey: 'tiny' }, null, 51),
    );
    expect(smallIntegrationDue.indexes).toContain('connections_reauth_due_integration_idx');
    const dueCount = await scans(() => repo.reauthDueCount(ALL_TENANTS, {}));
    expect(dueCount.indexes).toContain('connections_reauth_due_list_idx');
    const tenantDueCount = await scans(() => repo.reauthDueCount(tenant, {}));
    expect(tenantDueCount.indexes).toContain('connections_reauth_due_tenant_idx');
    // Only the small integrations table is ever read whole.
    for (const s of [
      list,
      tenantList,
      groups,
      tenantGroups,
      outcomes,
      tenantOutcomes,
      due,
      tenantDue,
      integrationDue,
      smallIntegrationDue,
      dueCount,
      tenantDueCount,
    ]) {
      expect(s.seqScans.filter((r) => r !== 'integrations')).toEqual([]);
    }
  });
});
