import { ALL_TENANTS, ConnectionsRepository, Database } from '@vault/persistence';
import { createTestDatabase, type TestDatabase } from '../utils/database';

/**
 * The counts behind GET /v1/stats and the vault_connections gauge are kept by triggers as deltas instead of
 * `count(*)` over a million rows: after every kind of write they equal what `count(*)` says, for everyone and
 * for one tenant, before and after the deltas are compacted.
 */
describe('connection counts kept as they change', () => {
  let db: TestDatabase;
  let database: Database;
  let repo: ConnectionsRepository;
  const A = '00000000-0000-4000-8000-00000000000a';
  const B = '00000000-0000-4000-8000-00000000000b';

  const truth = async (tenantId: string | null) =>
    (
      await database.query(
        `SELECT c.status, i.key AS integration_key, i.provider, count(*)::int AS count
         FROM connections c JOIN integrations i ON i.id = c.integration_id
         WHERE ($1::text IS NULL OR c.tenant_id = $1)
         GROUP BY c.status, i.key, i.provider ORDER BY i.key, c.status`,
        [tenantId],
      )
    ).map((r) => ({
      status: r.status,
      integrationKey: r.integration_key,
      provider: r.provider,
      count: r.count,
    }));
  const deltas = async () =>
    Number((await database.query(`SELECT count(*)::int AS n FROM connection_counts`))[0]?.n);

  async function expectCountsRight(): Promise<void> {
    expect(await repo.countByStatus(ALL_TENANTS)).toEqual(await truth(null));
    for (const tenantId of ['t1', 't2', 't3'])
      expect(await repo.countByStatus({ tenantId })).toEqual(await truth(tenantId));
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    database = Database.connect({ url: db.url, poolSize: 2 });
    repo = new ConnectionsRepository(database, { connectionsChanged: () => undefined });
    await database.query(
      `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, token_url, client_auth)
       VALUES ($1, 'alpha', 'oauth2', 'c', '\\x00', 'https://a.example/t', 'client_secret_post'),
              ($2, 'beta', 'google', 'c', '\\x00', 'https://b.example/t', 'client_secret_post')`,
      [A, B],
    );
  });
  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  it('follow inserts, status changes, moves, deletes and compaction', async () => {
    // One multi-row insert (a statement trigger adds one delta per group), then single inserts.
    await database.query(
      `INSERT INTO connections (id, integration_id, tenant_id, status, refresh_token_sealed)
       SELECT gen_random_uuid(), CASE WHEN i % 3 = 0 THEN $1::uuid ELSE $2::uuid END, 't' || (1 + i % 2),
              CASE WHEN i % 5 = 0 THEN 'needs_reauth' ELSE 'active' END, '\\x00'
       FROM generate_series(1, 300) AS i`,
      [A, B],
    );
    for (let i = 0; i < 3; i++)
      await database.query(
        `INSERT INTO connections (id, integration_id, tenant_id, status, refresh_token_sealed)
         VALUES (gen_random_uuid(), $1, 't3', 'active', '\\x00')`,
        [A],
      );
    await expectCountsRight();

    // A write that keeps the status (as a refresh does) adds no delta.
    const before = await deltas();
    await database.query(
      `UPDATE connections SET status = 'active', version = version + 1 WHERE status = 'active'`,
    );
    expect(await deltas()).toBe(before);

    await database.query(
      `UPDATE connections SET status = 'refresh_failing' WHERE id IN (SELECT id FROM connections WHERE tenant_id = 't1' LIMIT 40)`,
    );
    await database.query(`UPDATE connections SET status = 'revoked' WHERE tenant_id = 't3'`);
    await database.query(
      `UPDATE connections SET tenant_id = 't3', integration_id = $1 WHERE id IN (SELECT id FROM connections WHERE tenant_id = 't2' LIMIT 25)`,
      [A],
    );
    await expectCountsRight();

    await database.query(
      `DELETE FROM connections WHERE id IN (SELECT id FROM connections WHERE tenant_id = 't2' LIMIT 60)`,
    );
    await database.query(`DELETE FROM connections WHERE tenant_id = 't3' AND status = 'revoked'`);
    await expectCountsRight();

    // Compaction folds the deltas into one row per group with connections, and changes no count.
    await repo.compactCounts();
    const groups = await database.query(
      `SELECT count(*)::int AS n FROM (SELECT DISTINCT tenant_id, integration_id, status FROM connections) g`,
    );
    expect(await deltas()).toBe(groups[0]?.n);
    await expectCountsRight();

    // Deleting every connection leaves nothing to report, and compaction nothing behind.
    await database.query(`DELETE FROM connections`);
    expect(await repo.countByStatus(ALL_TENANTS)).toEqual([]);
    await repo.compactCounts();
    expect(await deltas()).toBe(0);
  });
});
