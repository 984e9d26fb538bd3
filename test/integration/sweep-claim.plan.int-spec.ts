import { CLAIM_DUE_SQL } from '@vault/persistence';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../utils/database';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * With 200,000 connections whose due times spread over a day, the sweep's claim (the statement the repository
 * runs) finds the near-due ones through the partial due-time index, never by reading the table.
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
    // 2 % need reauth (no due time); the rest fall due uniformly over the next 24 h, as access tokens expire.
    await pg.query(
      `INSERT INTO connections (id, integration_id, tenant_id, external_id, status, refresh_token_sealed,
                                access_token_expires_at, next_refresh_at)
       SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'tenant-' || (i % 1000), 'user-' || i,
              CASE WHEN i % 50 = 0 THEN 'needs_reauth' ELSE 'active' END, '\\x00', t,
              CASE WHEN i % 50 = 0 THEN NULL ELSE t - interval '5 minutes' END
       FROM generate_series(1, $1) AS i, LATERAL (SELECT now() + random() * interval '24 hours' AS t) AS due`,
      [ROWS],
    );
    await pg.query('ANALYZE connections');
  });
  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  it('uses connections_due_idx and no sequential scan of connections', async () => {
    const horizon = new Date(Date.now() + 30_000);
    const { rows } = await pg.query(`EXPLAIN (FORMAT JSON) ${CLAIM_DUE_SQL}`, [
      horizon,
      new Date(Date.now() + 60_000),
      1000,
    ]);
    const plan = nodes((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
    const onConnections = plan.filter((n) => n['Relation Name'] === 'connections');

    expect(onConnections.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    expect(onConnections.some((n) => n['Index Name'] === 'connections_due_idx')).toBe(true);
    // And the statement claims what is due, as the sweep relies on.
    const due = await pg.query(
      `SELECT count(*)::int AS n FROM connections WHERE next_refresh_at <= $1 AND status = 'active'`,
      [horizon],
    );
    const claimed = await pg.query(CLAIM_DUE_SQL, [horizon, new Date(Date.now() + 60_000), 1000]);
    expect(claimed.rowCount).toBe(Math.min(1000, due.rows[0].n as number));
  });
});
