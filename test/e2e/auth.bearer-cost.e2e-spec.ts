import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateApiKey, hashApiKey } from '@vault/core';
import { createApiApp } from '../../apps/vault-api/src/create-app';
import { testConfig } from '../utils/config';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../utils/database';
import { startPgStatementCounter, type PgStatementCounter } from '../utils/pg-statement-counter';
import { query } from '../utils/refresh-fixtures';

/**
 * What a bearer value costs the database, measured from outside: the API runs with its DATABASE_URL through a
 * proxy that counts every statement on the wire.
 */
describe('bearer values that cannot be ours cost no database query (API over HTTP, statements counted)', () => {
  let db: TestDatabase;
  let counter: PgStatementCounter;
  let app: NestFastifyApplication;
  let adminKey: string;
  const legacyKey = `vk_${randomBytes(32).toString('base64url')}`;

  const status = async (bearer: string): Promise<number> =>
    (
      await app.inject({
        method: 'GET',
        url: '/v1/integrations',
        headers: { authorization: `Bearer ${bearer}` },
      })
    ).statusCode;
  /** Statements the callback runs. */
  const cost = (fn: () => Promise<unknown>): Promise<number> => counter.cost(fn);

  beforeAll(async () => {
    db = await createTestDatabase();
    // A key stored by an earlier version (vk_ + 43 base64url characters, no checksum).
    await query(
      db.url,
      `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, tenant_id)
       VALUES (gen_random_uuid(), 'from an earlier version', $1, $2, '{connections:read}', NULL)`,
      [hashApiKey(legacyKey), legacyKey.slice(0, 8)],
    );
    counter = await startPgStatementCounter();
    const config = testConfig({ DATABASE_URL: counter.url(db.url), REDIS_PREFIX: testRedisPrefix() });
    adminKey = config.BOOTSTRAP_API_KEY ?? '';
    ({ app } = await createApiApp(config, { bufferLogs: false }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    expect(await status(adminKey)).toBe(200);
  });
  afterAll(async () => {
    await app?.close();
    await counter?.close();
    await db?.drop();
  });

  it('refuses 3,000 made-up and ill-formed bearer values with 401 and not one statement', async () => {
    const values: string[] = [];
    for (let i = 0; i < 500; i++) {
      const good = generateApiKey();
      values.push(
        randomBytes(24).toString('base64url'), // anything
        `vk_${randomBytes(32).toString('base64url')}`, // the earlier format, not a stored key
        good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A'), // our shape, checksum wrong
        good.slice(0, 20), // truncated
        `${good}x`, // too long
        adminKey.slice(0, -6) + generateApiKey().slice(-6), // a real key with its checksum swapped
      );
    }
    const statuses: number[] = [];
    expect(
      await cost(async () => {
        for (let i = 0; i < values.length; i += 100) {
          statuses.push(...(await Promise.all(values.slice(i, i + 100).map(status))));
        }
      }),
    ).toBe(0);
    expect(statuses.length).toBe(3000);
    expect(new Set(statuses)).toEqual(new Set([401]));
  });

  it('looks a well-formed unknown key up once, not once per request (200 requests, 100 at a time)', async () => {
    const unknown = generateApiKey();
    const statuses: number[] = [];
    expect(
      await cost(async () => {
        statuses.push(...(await Promise.all(Array.from({ length: 100 }, () => status(unknown)))));
        statuses.push(...(await Promise.all(Array.from({ length: 100 }, () => status(unknown)))));
      }),
    ).toBe(1);
    expect(new Set(statuses)).toEqual(new Set([401]));
  });

  it('still accepts a key stored by an earlier version, and lists it as legacy_format', async () => {
    expect(await status(legacyKey)).toBe(200);
    const list = await app.inject({
      method: 'GET',
      url: '/v1/api-keys',
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const rows = (JSON.parse(list.body) as { data: { name: string; legacy_format: boolean }[] }).data;
    expect(rows.map((r) => [r.name, r.legacy_format])).toEqual([
      ['from an earlier version', true],
      ['bootstrap', false],
    ]);
  });
});
