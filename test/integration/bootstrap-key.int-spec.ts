import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isWellFormedApiKey } from '@vault/core';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../utils/database';
import { startVaultProcess } from '../utils/processes';

/** The bootstrap admin key: long and random (the vk_ format), or generated once for a newcomer's `npm start`. */
describe('bootstrap admin key (real API processes)', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'vault-bootstrap-'));
    env = {
      DATABASE_URL: db.url,
      REDIS_PREFIX: testRedisPrefix(),
      LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
      BOOTSTRAP_API_KEY_FILE: join(dir, 'bootstrap-api-key'),
    };
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('in development without BOOTSTRAP_API_KEY, generates an admin key into the file, says where, and reuses it', async () => {
    const file = env.BOOTSTRAP_API_KEY_FILE ?? '';
    const first = await startVaultProcess('api', { ...env, NODE_ENV: 'development' });
    let key: string;
    try {
      key = readFileSync(file, 'utf8').trim();
      expect(isWellFormedApiKey(key)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.output()).toContain(`GENERATED a development admin API key into ${file}`);
      expect(first.output()).not.toContain(key);
      const res = await fetch(`${first.url}/v1/api-keys`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
    } finally {
      await first.stop();
    }
    const second = await startVaultProcess('api', { ...env, NODE_ENV: 'development' });
    try {
      expect(readFileSync(file, 'utf8').trim()).toBe(key);
      expect(second.output()).toContain(`using the development admin API key in ${file}`);
      const res = await fetch(`${second.url}/v1/api-keys`, { headers: { authorization: `Bearer ${key}` } });
      expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });

  it('refuses to start with a BOOTSTRAP_API_KEY that is not a generated key, naming the variable only', async () => {
    const weak = 'change-me-bootstrap-admin-key-0001';
    const failure = await startVaultProcess('api', { ...env, BOOTSTRAP_API_KEY: weak }).then(
      async (p) => {
        await p.stop();
        return '';
      },
      (err: Error) => err.message,
    );
    expect(failure).toContain('BOOTSTRAP_API_KEY');
    expect(failure).toContain('generate-api-key');
    expect(failure).not.toContain(weak);
  });
});
