import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@vault/core';
import { LocalKms } from '@vault/crypto';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../utils/database';
import { startVaultProcess, type VaultProcess } from '../utils/processes';
import { keepReading } from '../utils/readers';
import { createIntegration, query, startInProcessApi, waitFor } from '../utils/refresh-fixtures';

const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * A KMS key rotation under load: the processes move to a new master key (the old one kept as a previous key),
 * a worker job re-wraps every data key under the new one while tokens are read from processes with cold
 * caches, and afterwards a process that knows only the new master key reads everything.
 */
describe('KMS key rotation (re-wrap), online', () => {
  const N = 120;
  const oldMaster = randomBytes(32).toString('base64');
  const newMaster = randomBytes(32).toString('base64');
  let db: TestDatabase;
  let base: Record<string, string>;
  let worker: VaultProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    base = {
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: testRedisPrefix(),
      BOOTSTRAP_API_KEY: generateApiKey(),
      // Many data keys (a new one every 10 seals), so the re-wrap has work to spread over the load.
      DATA_KEY_MAX_USES: '10',
    };
  });

  afterAll(async () => {
    await worker?.stop();
    await db?.drop();
  });

  it('re-wraps every data key under the new KMS key while reads go on, with zero failed reads', async () => {
    const before = await startInProcessApi({ ...base, LOCAL_KMS_KEY: oldMaster });
    const ids: string[] = [];
    try {
      await createIntegration(before, {
        key: 'acme',
        provider: 'oauth2',
        client_id: 'client',
        client_secret: 'secret',
        token_url: 'http://127.0.0.1:9/token',
      });
      for (let i = 0; i < N; i++) {
        const res = await before.call('POST', '/v1/connections', {
          integration: 'acme',
          tenant_id: 'tenant-1',
          external_id: `c${i}`,
          refresh_token: `rt-${i}`,
          access_token: `at-${i}`,
          expires_in: 3600,
        });
        expect(res.status).toBe(201);
        ids.push(res.body.id as string);
      }
    } finally {
      await before.close();
    }
    const oldId = LocalKms.deriveKeyId(Buffer.from(oldMaster, 'base64'));
    const newId = LocalKms.deriveKeyId(Buffer.from(newMaster, 'base64'));
    const [keys] = await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM data_keys`);
    expect(keys?.n).toBeGreaterThanOrEqual(20);

    // Every process moves to the new master key, keeping the old one to open what it wrapped.
    const rotated = { ...base, LOCAL_KMS_KEY: newMaster, LOCAL_KMS_PREVIOUS_KEYS: oldMaster };
    const api = await startInProcessApi(rotated);
    worker = await startVaultProcess('worker', rotated);
    const readers = [keepReading(api, ids, { minTtl: 60 })];
    let job: Record<string, unknown>;
    try {
      const started = await api.call('POST', '/v1/admin/data-keys/rewrap');
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ kind: 'rewrap_data_keys', data_key_id: null });
      // More readers with cold caches while it runs: each unwraps data keys as they are being re-wrapped.
      const cold = await startInProcessApi(rotated);
      readers.push(keepReading(cold, [...ids].reverse(), { minTtl: 60 }));
      try {
        job = await waitFor(
          're-wrap done',
          async () => {
            const j = (await api.call('GET', `/v1/admin/key-jobs/${started.body.id as string}`)).body;
            if (j.state === 'failed') throw new Error(`job failed: ${j.error}`);
            return j.state === 'done' && j;
          },
          60_000,
          100,
        );
      } finally {
        for (const r of readers) await r.stop();
        await cold.close();
      }
    } finally {
      await api.close();
    }

    expect(job).toMatchObject({ kms_key_id: newId, remaining: 0, error: null });
    expect(job.done).toBe(keys?.n);
    for (const r of readers) {
      expect(r.stats.failed).toEqual([]);
      expect(r.stats.reads).toBeGreaterThan(0);
    }
    const wrappedUnder = await query<{ kms_key_id: string }>(
      db.url,
      `SELECT DISTINCT kms_key_id FROM data_keys`,
    );
    expect(wrappedUnder).toEqual([{ kms_key_id: newId }]);
    expect(newId).not.toBe(oldId);

    // The old master key is gone: a process that knows only the new one reads every token.
    const after = await startInProcessApi({ ...base, LOCAL_KMS_KEY: newMaster });
    try {
      for (const [i, id] of ids.entries()) {
        const res = await after.call('GET', `/v1/connections/${id}/token`);
        expect(res.status).toBe(200);
        expect(res.body.access_token).toBe(`at-${i}`);
      }
    } finally {
      await after.close();
    }
  });
});
