import { randomUUID } from 'node:crypto';
import { EventsRepository } from '@vault/persistence';
import { startTestApi, type TestApi } from '../utils/api';
import { createIntegration, importStale, query } from '../utils/refresh-fixtures';

describe('history retention', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
    await createIntegration(api, {
      key: 'ret',
      provider: 'oauth2',
      client_id: 'c',
      client_secret: 's',
      token_url: 'http://127.0.0.1:9/token',
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('deletes old refreshed events and finished attempts in batches, and keeps everything else', async () => {
    const id = await importStale(api, 'ret', 'rt', 'r1');
    const old = new Date(Date.now() - 40 * 86_400_000);
    for (let i = 0; i < 7; i++) {
      await query(
        api.db.url,
        `INSERT INTO connection_events (connection_id, tenant_id, type, detail, created_at) VALUES ($1, 'tenant-1', $2, '{}', $3)`,
        [id, i < 5 ? 'refreshed' : 'needs_reauth', old],
      );
      await query(
        api.db.url,
        `INSERT INTO refresh_attempts (id, connection_id, trigger, connection_version, refresh_token_fingerprint, started_at, finished_at, outcome)
         VALUES ($1, $2, 'scheduled', 1, 'fp', $3, $4, 'success')`,
        [randomUUID(), id, old, i < 6 ? old : null],
      );
    }
    await query(
      api.db.url,
      `INSERT INTO connection_events (connection_id, tenant_id, type, detail) VALUES ($1, 'tenant-1', 'refreshed', '{}')`,
      [id],
    );

    const deleted = await api.app.get(EventsRepository).prune(new Date(Date.now() - 30 * 86_400_000), 2);

    expect(deleted).toBe(5 + 6);
    const events = await query<{ type: string; n: number }>(
      api.db.url,
      `SELECT type, count(*)::int AS n FROM connection_events GROUP BY type ORDER BY type`,
    );
    expect(events).toEqual([
      { type: 'created', n: 1 },
      { type: 'needs_reauth', n: 2 },
      { type: 'refreshed', n: 1 },
    ]);
    const attempts = await query<{ n: number }>(
      api.db.url,
      `SELECT count(*)::int AS n FROM refresh_attempts`,
    );
    expect(attempts[0]?.n).toBe(1);
  });
});
