import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@vault/core';
import { Database, SEALED_COLUMNS, SealedValuesRepository } from '@vault/persistence';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../utils/database';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import { startVaultProcess, type VaultProcess } from '../utils/processes';
import { keepReading } from '../utils/readers';
import {
  createIntegration,
  oidcIntegration,
  query,
  startInProcessApi,
  waitFor,
} from '../utils/refresh-fixtures';

const REDIS_URL = 'redis://127.0.0.1:6379';

type Api = Awaited<ReturnType<typeof startInProcessApi>>;

async function keyOf(dbUrl: string, sql: string): Promise<string[]> {
  return (await query<{ k: string }>(dbUrl, sql)).map((r) => r.k);
}

/**
 * Retiring a data key while the vault runs: tokens are read and refreshed throughout, the worker running the job
 * is killed in the middle, another one finishes it, and the key is gone with nothing left under it. The
 * authorization server does not rotate refresh tokens here, so that the kill, which may cut a refresh, loses no
 * grant (that case is refresh.recovery's); the re-seal's compare-and-set has its own scenario below.
 */
describe('data key retirement, online', () => {
  const STILL = 150; // connections with a long-lived access token: read only
  const MOVING = 10; // connections refreshed every few seconds by the worker (10 s access tokens)
  let server: OAuthServer;
  let db: TestDatabase;
  let env: Record<string, string>;
  let api: Api;
  const workers: VaultProcess[] = [];

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: false, accessTokenTtl: 10 });
    db = await createTestDatabase();
    env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: testRedisPrefix(),
      LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
      BOOTSTRAP_API_KEY: generateApiKey(),
      KEY_ROTATION_BATCH_SIZE: '2',
      SWEEP_INTERVAL_MS: '200',
      SWEEP_LOOKAHEAD_SECONDS: '1',
      // The 10 s tokens here are refreshed every few seconds on purpose: below the default floor of 60 s.
      MIN_REFRESH_INTERVAL_SECONDS: '1',
    };
    api = await startInProcessApi(env);
    await createIntegration(api, oidcIntegration(server));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await api?.close();
    await server?.close();
    await db?.drop();
  });

  it('knows every sealed column of the schema', async () => {
    const columns = await keyOf(
      db.url,
      `SELECT table_name || '.' || column_name AS k FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type = 'bytea' AND column_name LIKE '%sealed%'`,
    );
    expect([...columns].sort()).toEqual([...SEALED_COLUMNS].sort());
  });

  it('re-seals everything under the key, survives a kill -9 of its worker, then deletes the key', async () => {
    const ids: string[] = [];
    for (let i = 0; i < STILL + MOVING; i++) {
      const moving = i >= STILL;
      const res = await api.call('POST', '/v1/connections', {
        integration: 'oidc',
        tenant_id: 'tenant-1',
        external_id: `c${i}`,
        refresh_token: moving ? await server.mintRefreshToken(`u${i}`) : `rt-${i}`,
        access_token: `at-${i}`,
        expires_at: new Date(Date.now() + (moving ? 0 : 3600_000)).toISOString(),
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id as string);
    }
    const [retired, ...others] = await keyOf(db.url, `SELECT id::text AS k FROM data_keys`);
    expect(others).toEqual([]);

    const first = await startVaultProcess('worker', env);
    workers.push(first);
    await waitFor('the moving connections refreshed once', async () => {
      const [r] = await query<{ n: number }>(
        db.url,
        `SELECT count(*)::int AS n FROM connections WHERE last_refreshed_at IS NOT NULL`,
      );
      return (r?.n ?? 0) >= MOVING;
    });
    const listed = (await api.call('GET', '/v1/admin/data-keys')).body.data;
    expect(listed).toEqual([expect.objectContaining({ id: retired, retired_at: null })]);
    expect(listed[0].sealed_values).toBeGreaterThanOrEqual(2 * STILL + 1);

    const callsBefore = server.tokenCalls;
    const reader = keepReading(api, ids); // min_ttl=1: the provider's access tokens live 10 s
    let done: Record<string, unknown>;
    try {
      const started = await api.call('POST', `/v1/admin/data-keys/${retired}/retire`);
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ kind: 'retire_data_key', data_key_id: retired });
      const jobId = started.body.id as string;
      // Asked again while it runs: the same job.
      expect((await api.call('POST', `/v1/admin/data-keys/${retired}/retire`)).body.id).toBe(jobId);

      await waitFor(
        'the job under way',
        async () => {
          const job = (await api.call('GET', `/v1/admin/key-jobs/${jobId}`)).body;
          return job.done >= 10 && job.remaining > 50;
        },
        30_000,
        5,
      );
      await first.kill9();
      const [left] = await query<{ n: number }>(
        db.url,
        `SELECT ((SELECT count(*) FROM connections WHERE refresh_token_key_id = $1 OR access_token_key_id = $1)
               + (SELECT count(*) FROM integrations WHERE client_secret_key_id = $1))::int AS n`,
        [retired],
      );
      expect(left?.n).toBeGreaterThan(0);

      workers.push(await startVaultProcess('worker', env));
      done = await waitFor(
        'the job finished by the second worker',
        async () => {
          const job = (await api.call('GET', `/v1/admin/key-jobs/${jobId}`)).body;
          if (job.state === 'failed') throw new Error(`job failed: ${job.error}`);
          return job.state === 'done' && job;
        },
        90_000,
        200,
      );
    } finally {
      await reader.stop();
    }
    const { stats } = reader;

    expect(done).toMatchObject({ remaining: 0, error: null });
    const audit = await waitFor('the retirement in the audit trail', async () => {
      const [row] = await query<{ target: string }>(
        db.url,
        `SELECT target FROM audit_log WHERE action = 'data_key.retired'`,
      );
      return row;
    });
    expect(audit.target).toBe(retired);
    expect(stats.failed).toEqual([]);
    expect(stats.reads).toBeGreaterThan(100);
    expect(await keyOf(db.url, `SELECT id::text AS k FROM data_keys WHERE id = '${retired}'`)).toEqual([]);
    expect(server.tokenCalls - callsBefore).toBeGreaterThan(MOVING); // refreshes went on throughout

    // A process with a cold cache (no trace of the deleted key) reads every token; the moving ones are tokens
    // the provider still accepts.
    const fresh = await startInProcessApi(env);
    try {
      for (const [i, id] of ids.entries()) {
        const res = await fresh.call('GET', `/v1/connections/${id}/token?min_ttl=1`);
        expect(res.status).toBe(200);
        if (i < STILL) expect(res.body.access_token).toBe(`at-${i}`);
        else expect(await server.accepts(res.body.access_token as string)).toBe(true);
      }
      const statuses = await query<{ status: string }>(db.url, `SELECT DISTINCT status FROM connections`);
      expect(statuses).toEqual([{ status: 'active' }]);
    } finally {
      await fresh.close();
    }
  });

  it('never overwrites a value written after the re-seal read it (compare-and-set on the sealed bytes)', async () => {
    const created = await api.call('POST', '/v1/connections', {
      integration: 'oidc',
      tenant_id: 'tenant-1',
      external_id: 'cas',
      refresh_token: 'rt-old',
      access_token: 'at-old',
      expires_in: 3600,
    });
    const id = created.body.id as string;
    const database = Database.connect({ url: db.url, poolSize: 1 });
    try {
      const sealed = new SealedValuesRepository(database, { connectionsChanged: () => undefined });
      const [key] = await keyOf(
        db.url,
        `SELECT access_token_key_id::text AS k FROM connections WHERE id = '${id}'`,
      );
      const read = (await sealed.listUnder('connection.access_token', key ?? '', null, 1000)).find(
        (v) => v.id === id,
      );
      expect(read).toBeDefined();
      // A refresh (here: a new grant) writes between the job's read and its write.
      const put = await api.call('PUT', `/v1/connections/${id}/grant`, {
        refresh_token: 'rt-new',
        access_token: 'at-new',
        expires_in: 3600,
      });
      expect(put.status).toBe(200);
      const [other] = await query<{ s: Buffer }>(
        db.url,
        `SELECT access_token_sealed AS s FROM connections LIMIT 1`,
      );
      const replaced = await sealed.replace('connection.access_token', [
        { id, old: read?.sealed ?? Buffer.alloc(0), sealed: other?.s ?? Buffer.alloc(0) },
      ]);
      expect(replaced).toBe(0);
      expect((await api.call('GET', `/v1/connections/${id}/token`)).body.access_token).toBe('at-new');
    } finally {
      await database.close();
    }
  });

  it('answers 404 for an unknown key, 400 for a malformed ID, 403 for a key without admin', async () => {
    const unknown = await api.call('POST', `/v1/admin/data-keys/${crypto.randomUUID()}/retire`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
    const bad = await api.call('POST', `/v1/admin/data-keys/nope/retire`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    const created = await api.call('POST', '/v1/api-keys', {
      name: 'writer',
      scopes: ['integrations:write'],
    });
    const refused = await api.call('GET', '/v1/admin/data-keys', undefined, created.body.key as string);
    expect(refused.status).toBe(403);
    expect((await api.call('GET', `/v1/admin/key-jobs/${crypto.randomUUID()}`)).status).toBe(404);
  });
});
