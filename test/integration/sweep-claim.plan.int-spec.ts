import { CLAIM_DUE_SQL } from '@vault/persistence';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../utils/database';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * With 200,000 connections whose due times spread over a day, the sweep's claim (the statement the repository
 * runs) finds the near-due ones through the partial due-time index, never by reading the table, and a round
 * bounded by the last one's due time does not walk again over the rows leased before it.
 */
describe('the sweep claim at scale', () => {
  const ROWS = 200_000;
  let db: TestDatabase;
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query(
      `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, token_url, client_auth)
       VALUES ('00000000-0000-4000-8000-000000000001', 'scale', 'oauth2', 'c', '\\x00', 'https://example.com/t',
               'client_secret_post')`,
    );
    // 2 % need reauth (no due time); the rest fall due uniformly over the next 24 h, as access tokens expire
    // (`0 * i` ties the draw to the row: an uncorrelated LATERAL would draw once for all rows).
    await pg.query(
      `INSERT INTO connections (id, integration_id, tenant_id, external_id, status, refresh_token_sealed,
                                access_token_expires_at, next_refresh_at)
       SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'tenant-' || (i % 1000), 'user-' || i,
              CASE WHEN i % 50 = 0 THEN 'needs_reauth' ELSE 'active' END, '\\x00', t,
              CASE WHEN i % 50 = 0 THEN NULL ELSE t - interval '5 minutes' END
       FROM generate_series(1, $1) AS i, LATERAL (SELECT now() + (random() + 0 * i) * interval '24 hours' AS t) AS due`,
      [ROWS],
    );
    await pg.query('ANALYZE connections');
  });
  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  const planOf = (rows: unknown[]) =>
    nodes((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
  const release = () =>
    pg.query('UPDATE connections SET refresh_claimed_until = NULL WHERE refresh_claimed_until IS NOT NULL');

  it('uses connections_due_idx and no sequential scan of connections, also as a generic plan', async () => {
    const horizon = new Date(Date.now() + 30_000);
    const lease = new Date(Date.now() + 60_000);
    // The repository runs it as a named prepared statement: after a few runs PostgreSQL may switch to the
    // generic plan (parameters unknown), so both plans must keep to the index.
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      await pg.query(`SET plan_cache_mode = ${mode}`);
      await pg.query(`PREPARE claim_${mode} AS ${CLAIM_DUE_SQL}`);
      const { rows } = await pg.query(
        `EXPLAIN (FORMAT JSON) EXECUTE claim_${mode}(now() + interval '30 s', now() + interval '60 s', 1000, NULL)`,
      );
      const plan = planOf(rows);
      const onConnections = plan.filter((n) => n['Relation Name'] === 'connections');

      expect(onConnections.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      // An index scan or a bitmap index scan (which names no relation) over the partial due-time index.
      expect(plan.some((n) => n['Index Name'] === 'connections_due_idx')).toBe(true);
      // The leases are written through the claimed rows' ctid, not by looking each up again by key.
      expect(onConnections.map((n) => n['Node Type'])).toContain('Tid Scan');
    }
    await pg.query('RESET plan_cache_mode');
    // And the statement claims what is due, as the sweep relies on.
    const due = await pg.query(
      `SELECT count(*)::int AS n FROM connections WHERE next_refresh_at <= $1 AND status = 'active'`,
      [horizon],
    );
    expect(due.rows[0].n).toBeGreaterThan(300); // about 200,000 × 5.5 min / 24 h
    const claimed = await pg.query(CLAIM_DUE_SQL, [horizon, lease, 1000, null]);
    expect(claimed.rowCount).toBe(Math.min(1000, due.rows[0].n as number));
    await release();
  });

  it('leases without touching an index: every claimed row is a HOT update (fillfactor leaves room)', async () => {
    const updates = async () => {
      await pg.query('SELECT pg_stat_force_next_flush()');
      await pg.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await pg.query(
        `SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'connections'`,
      );
      return rows[0] as { upd: number; hot: number };
    };
    await release();
    const before = await updates();
    const claimed = await pg.query(CLAIM_DUE_SQL, [
      new Date(Date.now() + 30_000),
      new Date(Date.now() + 60_000),
      1000,
      null,
    ]);
    const after = await updates();

    expect(claimed.rowCount).toBeGreaterThan(100);
    expect(after.upd - before.upd).toBe(claimed.rowCount);
    expect(after.hot - before.hot).toBe(claimed.rowCount);
  });

  it('claims the earliest due first and, bounded by the last round, neither walks nor claims rows before it', async () => {
    await release();
    const horizon = new Date(Date.now() + 30_000);
    const lease = new Date(Date.now() + 60_000);
    const first = await pg.query<{ id: string; next_refresh_at: Date }>(CLAIM_DUE_SQL, [
      horizon,
      lease,
      100,
      null,
    ]);
    expect(first.rowCount).toBe(100);
    const last = new Date(Math.max(...first.rows.map((r) => r.next_refresh_at.getTime())));
    const earliestLeft = await pg.query(
      `SELECT min(next_refresh_at) AS t FROM connections
       WHERE next_refresh_at IS NOT NULL AND status = 'active' AND refresh_claimed_until IS NULL`,
    );
    expect((earliestLeft.rows[0].t as Date).getTime()).toBeGreaterThanOrEqual(last.getTime());

    // Unbounded, the next round reads the 100 leased rows again (and drops them); bounded, it reads only the
    // one due at exactly the bound (a bound at or after, so rows due at the same instant are never skipped).
    const walk = async (from: Date | null) => {
      await pg.query('BEGIN');
      const { rows } = await pg.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${CLAIM_DUE_SQL}`, [
        horizon,
        lease,
        50,
        from,
      ]);
      await pg.query('ROLLBACK');
      const scan = planOf(rows).find((n) => n['Index Name'] === 'connections_due_idx');
      return scan?.['Rows Removed by Filter'] ?? 0;
    };
    expect(await walk(null)).toBe(100);
    expect(await walk(last)).toBe(1);

    // A bound also keeps rows due before it out of the round, even unleased ones (the next sweep's unbounded
    // first round takes them).
    await pg.query('UPDATE connections SET refresh_claimed_until = NULL WHERE id = $1', [first.rows[0]?.id]);
    const second = await pg.query<{ id: string; next_refresh_at: Date }>(CLAIM_DUE_SQL, [
      horizon,
      lease,
      50,
      last,
    ]);
    expect(second.rowCount).toBe(50);
    expect(second.rows.every((r) => r.next_refresh_at >= last)).toBe(true);
    expect(second.rows.map((r) => r.id)).not.toContain(first.rows[0]?.id);
    const again = await pg.query<{ id: string }>(CLAIM_DUE_SQL, [horizon, lease, 50, null]);
    expect(again.rows.map((r) => r.id)).toContain(first.rows[0]?.id);
    await release();
  });
});
