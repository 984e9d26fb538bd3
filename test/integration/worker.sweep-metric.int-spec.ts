import { randomBytes } from 'node:crypto';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../utils/database';
import { startVaultProcess, type VaultProcess } from '../utils/processes';
import { query, waitFor } from '../utils/refresh-fixtures';

/**
 * The series the VaultWorkerAbsent and VaultSweepStalled alerts read (deploy/prometheus/alerts.yml): a real
 * worker process exports `vault_sweep_last_success_timestamp_seconds{process="vault-worker"}`, advances it
 * with every completed sweep, and stops advancing it while its sweeps fail.
 */
describe('the worker exports the time of its last completed sweep', () => {
  let db: TestDatabase;
  let worker: VaultProcess;
  let failedSweeps = 0;

  const lastSweep = async (): Promise<number> => {
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    const m = /^vault_sweep_last_success_timestamp_seconds\{process="vault-worker"\} (\S+)$/m.exec(text);
    if (!m?.[1])
      throw new Error('vault_sweep_last_success_timestamp_seconds{process="vault-worker"} missing');
    return Number(m[1]);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    worker = await startVaultProcess('worker', {
      DATABASE_URL: db.url,
      REDIS_PREFIX: testRedisPrefix(),
      LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
      SWEEP_INTERVAL_MS: '200',
    });
    worker.child.stdout?.on('data', (b: Buffer) => {
      failedSweeps += b.toString('utf8').split('"msg":"sweep failed"').length - 1;
    });
  }, 90_000);

  afterAll(async () => {
    await worker?.stop();
    await db?.drop();
  });

  it('advances it with each sweep, holds it while sweeps fail, and advances again once they succeed', async () => {
    const startedBefore = Math.floor(Date.now() / 1000) - 120;
    const first = await waitFor('a completed sweep', async () => {
      const t = await lastSweep();
      return t > startedBefore ? t : false;
    });
    await waitFor('a later sweep', async () => (await lastSweep()) > first);

    // The sweep's claim query now fails: sweeps still run, none completes.
    await query(db.url, 'ALTER TABLE connections RENAME TO connections_gone');
    try {
      await waitFor('a failed sweep', () => Promise.resolve(failedSweeps > 0));
      const held = await lastSweep();
      const failedAtHold = failedSweeps;
      await waitFor('three more failed sweeps', () => Promise.resolve(failedSweeps >= failedAtHold + 3));
      expect(await lastSweep()).toBe(held);
    } finally {
      await query(db.url, 'ALTER TABLE connections_gone RENAME TO connections');
    }
    const held = await lastSweep();
    await waitFor('a completed sweep after the failures', async () => (await lastSweep()) > held);
  });
});
