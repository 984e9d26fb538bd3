import { randomUUID } from 'node:crypto';
import { startTestApi, type TestApi } from '../utils/api';
import { startVaultProcess, type VaultProcess } from '../utils/processes';
import { createIntegration, query, waitFor } from '../utils/refresh-fixtures';

const DAY_MS = 86_400_000;

describe('history retention, run by the worker process', () => {
  let api: TestApi;
  let worker: VaultProcess | undefined;

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
    await worker?.stop();
    await api?.close();
  });

  it('deletes refreshed events and finished attempts older than HISTORY_RETENTION_DAYS and audit rows older than AUDIT_RETENTION_DAYS once started, and keeps everything else', async () => {
    // A token valid for an hour: the worker has nothing to refresh, so the history below is all there is.
    const res = await api.call('POST', '/v1/connections', {
      integration: 'ret',
      tenant_id: 'tenant-1',
      refresh_token: 'rt',
      access_token: 'at',
      expires_in: 3600,
    });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const old = new Date(Date.now() - 40 * DAY_MS);
    const recent = new Date(Date.now() - 2 * DAY_MS);
    const event = (type: string, at: Date) =>
      query(
        api.db.url,
        `INSERT INTO connection_events (connection_id, tenant_id, type, detail, created_at) VALUES ($1, 'tenant-1', $2, '{}', $3)`,
        [id, type, at],
      );
    const attempt = (startedAt: Date, finishedAt: Date | null) =>
      query(
        api.db.url,
        `INSERT INTO refresh_attempts (id, connection_id, trigger, connection_version, refresh_token_fingerprint, started_at, finished_at, outcome)
         VALUES ($1, $2, 'scheduled', 1, 'fp', $3, $4, 'success')`,
        [randomUUID(), id, startedAt, finishedAt],
      );
    for (let i = 0; i < 5; i++) await event('refreshed', old); // routine and old: goes
    for (let i = 0; i < 2; i++) await event('needs_reauth', old); // not routine: stays whatever its age
    await event('refreshed', recent); // routine but recent: stays
    for (let i = 0; i < 6; i++) await attempt(old, old); // finished and old: goes
    await attempt(old, null); // unfinished (recovery needs it): stays
    await attempt(recent, recent); // finished but recent: stays
    const audit = (target: string, at: Date) =>
      query(
        api.db.url,
        `INSERT INTO audit_log (action, target, first_at, last_at, created_at) VALUES ('integration.updated', $1, $2, $2, $2)`,
        [target, at],
      );
    await audit('old', new Date(Date.now() - 91 * DAY_MS)); // beyond AUDIT_RETENTION_DAYS: goes
    await audit('kept', old); // 40 days: older than the history's 30 but within the audit's 90: stays

    worker = await startVaultProcess('worker', {
      DATABASE_URL: api.db.url,
      REDIS_PREFIX: api.config.REDIS_PREFIX,
      LOCAL_KMS_KEY: api.config.LOCAL_KMS_KEY ?? '',
      HISTORY_RETENTION_DAYS: '30',
      AUDIT_RETENTION_DAYS: '90',
    });

    await waitFor('the worker to prune old history', async () => {
      const [row] = await query<{ n: number }>(
        api.db.url,
        `SELECT count(*)::int AS n FROM connection_events WHERE type = 'refreshed' AND created_at < now() - interval '30 days'`,
      );
      return row?.n === 0;
    });
    const events = await query<{ type: string; n: number }>(
      api.db.url,
      `SELECT type, count(*)::int AS n FROM connection_events GROUP BY type ORDER BY type`,
    );
    expect(events).toEqual([
      { type: 'created', n: 1 },
      { type: 'needs_reauth', n: 2 },
      { type: 'refreshed', n: 1 },
    ]);
    await waitFor('old finished attempts to go', async () => {
      const [row] = await query<{ n: number }>(api.db.url, `SELECT count(*)::int AS n FROM refresh_attempts`);
      return row?.n === 2;
    });
    await waitFor('old audit rows to go', async () => {
      const rows = await query<{ target: string }>(
        api.db.url,
        `SELECT target FROM audit_log WHERE action = 'integration.updated'`,
      );
      return rows.length === 1 && rows[0]?.target === 'kept';
    });
    const attempts = await query<{ finished: boolean; recent: boolean }>(
      api.db.url,
      `SELECT finished_at IS NOT NULL AS finished, started_at > now() - interval '30 days' AS recent
         FROM refresh_attempts ORDER BY started_at`,
    );
    expect(attempts).toEqual([
      { finished: false, recent: false },
      { finished: true, recent: true },
    ]);
  });
});
