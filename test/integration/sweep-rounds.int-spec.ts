import { Database, RefreshScheduleRepository } from '@vault/persistence';
import { Client } from 'pg';
import { loadConfig } from '../../libs/core/src/config/vault-config';
import type { RefreshJob } from '../../libs/core/src/jobs/queues';
import { SweepService } from '../../libs/core/src/refresh/sweep.service';
import { createTestDatabase, type TestDatabase } from '../utils/database';

/**
 * The sweep over PostgreSQL: rounds of at most SWEEP_BATCH_SIZE claims, each starting where the last ended,
 * drain what is due exactly once; a row another transaction holds is passed over and taken by a later sweep.
 */
describe('the sweep in rounds of SWEEP_BATCH_SIZE', () => {
  const DUE = 11;
  let db: TestDatabase;
  let pg: Client;
  let database: Database;
  let ids: string[];

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    database = Database.connect({ url: db.url, poolSize: 2 });
    await pg.query(
      `INSERT INTO integrations (id, key, provider, client_id, client_secret_sealed, token_url, client_auth)
       VALUES ('00000000-0000-4000-8000-000000000001', 'rounds', 'oauth2', 'c', '\\x00', 'https://example.com/t',
               'client_secret_post')`,
    );
    // DUE connections due over the last DUE seconds (one a second), one due in an hour, one needing reauth.
    const { rows } = await pg.query<{ id: string }>(
      `INSERT INTO connections (id, integration_id, tenant_id, external_id, status, refresh_token_sealed,
                                access_token_expires_at, next_refresh_at)
       SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 't', 'user-' || i,
              CASE WHEN i = $1 + 2 THEN 'needs_reauth' ELSE 'active' END, '\\x00', now() + interval '5 minutes',
              CASE WHEN i <= $1 THEN now() - i * interval '1 second'
                   WHEN i = $1 + 1 THEN now() + interval '1 hour' END
       FROM generate_series(1, $1 + 2) AS i ORDER BY i RETURNING id`,
      [DUE],
    );
    ids = rows.map((r) => r.id).slice(0, DUE);
  });
  afterAll(async () => {
    await database?.close();
    await pg?.end();
    await db?.drop();
  });

  function sweeper() {
    const repo = new RefreshScheduleRepository(database);
    const claims: number[] = [];
    const counting = {
      claimDue: async (...args: Parameters<RefreshScheduleRepository['claimDue']>) => {
        const rows = await repo.claimDue(...args);
        claims.push(rows.length);
        return rows;
      },
      releaseClaim: (claimed: string[]) => repo.releaseClaim(claimed),
    } as unknown as RefreshScheduleRepository;
    const enqueued: string[] = [];
    const sink = {
      addBulk: (jobs: { data: RefreshJob }[]) => {
        for (const j of jobs) enqueued.push(...j.data.items.map((i) => i.connectionId));
        return Promise.resolve();
      },
    };
    const config = loadConfig({ NODE_ENV: 'test', SWEEP_BATCH_SIZE: '4' });
    return { sweep: new SweepService(counting, sink, config), claims, enqueued };
  }

  it('claims every due connection once, in rounds of at most SWEEP_BATCH_SIZE, and passes over a held one', async () => {
    const held = ids[0] as string; // the earliest due: the first round would take it
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM connections WHERE id = $1 FOR UPDATE', [held]);

    const { sweep, claims, enqueued } = sweeper();
    expect(await sweep.sweep()).toBe(DUE - 1);
    expect(claims).toEqual([4, 4, 2]);
    expect([...enqueued].sort()).toEqual(ids.filter((id) => id !== held).sort());
    expect(await sweep.sweep()).toBe(0); // all leased; the held row is still held

    await holder.query('ROLLBACK');
    await holder.end();
    expect(await sweep.sweep()).toBe(1);
    expect(enqueued.filter((id) => id === held)).toHaveLength(1);
    expect(new Set(enqueued).size).toBe(DUE);
    const leased = await pg.query(
      `SELECT count(*)::int AS n FROM connections WHERE refresh_claimed_until > now()`,
    );
    expect(leased.rows[0].n).toBe(DUE);
  });
});
