import { randomBytes } from 'node:crypto';
import { ApiKeysService, generateApiKey, hashApiKey } from '@vault/core';
import { ApiKeysRepository, Database } from '@vault/persistence';
import { createTestDatabase, type TestDatabase } from '../utils/database';
import { startPgStatementCounter, type PgStatementCounter } from '../utils/pg-statement-counter';
import { query } from '../utils/refresh-fixtures';

/**
 * The authentication caches against the real PostgreSQL, seen through a proxy that counts the statements
 * the service runs; the clock is a fake one, so "a minute later" needs no waiting.
 */
describe('API key authentication: what a bearer value costs (real PostgreSQL, fake clock)', () => {
  let db: TestDatabase;
  let counter: PgStatementCounter;
  let database: Database;
  let clock = 1_000_000; // lru-cache treats a start time of 0 as "no TTL"
  const now = (): number => clock;
  const service = (options: Partial<ConstructorParameters<typeof ApiKeysService>[1]> = {}) =>
    new ApiKeysService(new ApiKeysRepository(database), { now, ...options });
  /** Statements the callback runs. */
  const cost = (fn: () => Promise<unknown>): Promise<number> => counter.cost(fn);

  beforeAll(async () => {
    db = await createTestDatabase();
    counter = await startPgStatementCounter();
    database = Database.connect({ url: counter.url(db.url), poolSize: 4 });
  });
  afterAll(async () => {
    await database?.close();
    await counter?.close();
    await db?.drop();
  });

  it('looks an unknown well-formed key up once, however often and however concurrently it comes, for a minute', async () => {
    const keys = service();
    await keys.warmUp();
    const unknown = generateApiKey();
    expect(
      await cost(async () => {
        const answers = await Promise.all(Array.from({ length: 50 }, () => keys.authenticate(unknown)));
        for (let i = 0; i < 50; i++) answers.push(await keys.authenticate(unknown));
        expect(answers.every((a) => a === null)).toBe(true);
      }),
    ).toBe(1);
    clock += 59_000;
    expect(await cost(() => keys.authenticate(unknown))).toBe(0);
    clock += 2_000;
    expect(await cost(() => keys.authenticate(unknown))).toBe(1);
  });

  it('keeps verified keys apart from unknown ones: a flood of unknown keys never evicts a valid principal', async () => {
    const keys = service({ maxEntries: 50 });
    await keys.warmUp();
    const { key, record } = await keys.create({ name: 'valid', scopes: ['tokens:read'], tenantId: null });
    expect((await keys.authenticate(key))?.keyId).toBe(record.id);
    const flood = Array.from({ length: 500 }, generateApiKey);
    expect(await cost(async () => void (await Promise.all(flood.map((k) => keys.authenticate(k)))))).toBe(
      500,
    );
    // Still cached: no query, same principal.
    expect(await cost(async () => expect((await keys.authenticate(key))?.keyId).toBe(record.id))).toBe(0);
    // The unknown-key cache is bounded too: the oldest of the flood was evicted and costs a query again,
    // the newest did not.
    expect(await cost(() => keys.authenticate(flood[0] ?? ''))).toBe(1);
    expect(await cost(() => keys.authenticate(flood[499] ?? ''))).toBe(0);
  });

  it('drops a key revoked on this instance at once, and one revoked elsewhere within the 5 s verified TTL', async () => {
    const here = service();
    const elsewhere = service();
    const a = await here.create({ name: 'a', scopes: ['tokens:read'], tenantId: null });
    const b = await here.create({ name: 'b', scopes: ['tokens:read'], tenantId: null });
    expect(await here.authenticate(a.key)).not.toBeNull();
    expect(await here.authenticate(b.key)).not.toBeNull();
    await here.revoke(a.record.id);
    expect(await here.authenticate(a.key)).toBeNull();
    await elsewhere.revoke(b.record.id);
    clock += 4_900;
    expect(await here.authenticate(b.key)).not.toBeNull();
    clock += 200;
    expect(await here.authenticate(b.key)).toBeNull();
  });

  it("answers cachedPrincipal (the hot path's synchronous look) only for a key verified within the TTL", async () => {
    const keys = service();
    const a = await keys.create({ name: 'a', scopes: ['tokens:read'], tenantId: 'acme' });
    const elsewhere = service();
    expect(keys.cachedPrincipal(a.key)).toBeUndefined(); // never verified here: authenticate decides
    expect(await cost(() => Promise.resolve(keys.cachedPrincipal(a.key)))).toBe(0);
    const verified = await keys.authenticate(a.key);
    expect(keys.cachedPrincipal(a.key)).toBe(verified);
    expect(keys.cachedPrincipal(generateApiKey())).toBeUndefined();
    expect(keys.cachedPrincipal('not a key')).toBeUndefined();
    // Revoked elsewhere: gone from the synchronous look at the same bound as from authenticate.
    await elsewhere.revoke(a.record.id);
    clock += 5_100;
    expect(keys.cachedPrincipal(a.key)).toBeUndefined();
    expect(await keys.authenticate(a.key)).toBeNull();
    // Revoked here: at once.
    const b = await keys.create({ name: 'b', scopes: ['tokens:read'], tenantId: null });
    await keys.authenticate(b.key);
    await keys.revoke(b.record.id);
    expect(keys.cachedPrincipal(b.key)).toBeUndefined();
  });

  it('keeps keys of earlier versions working, and costs nothing for other values of any shape', async () => {
    const legacyKey = `vk_${randomBytes(32).toString('base64url')}`;
    const oldBootstrap = 'change-me-bootstrap-admin-key-0001';
    for (const k of [legacyKey, oldBootstrap]) {
      // As an earlier version stored them (legacy_format defaults to true).
      await query(
        db.url,
        `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, tenant_id)
         VALUES (gen_random_uuid(), 'old', $1, $2, '{admin}', NULL)`,
        [hashApiKey(k), k.slice(0, 8)],
      );
    }
    const keys = service();
    expect(await cost(() => keys.warmUp())).toBe(1);
    expect((await keys.authenticate(legacyKey))?.scopes).toEqual(['admin']);
    expect(await keys.authenticate(oldBootstrap)).not.toBeNull();
    const wellFormed = generateApiKey();
    const madeUp = [
      `vk_${randomBytes(32).toString('base64url')}`,
      'change-me-bootstrap-admin-key-0002',
      wellFormed.slice(0, -1) + (wellFormed.endsWith('0') ? '1' : '0'), // checksum broken
      '',
      'x'.repeat(5000),
    ];
    expect(
      await cost(async () =>
        expect(await Promise.all(madeUp.map((k) => keys.authenticate(k)))).toEqual(madeUp.map(() => null)),
      ),
    ).toBe(0);
    const listed = await keys.list(undefined, 100);
    expect(
      listed.data
        .filter((k) => k.legacyFormat)
        .map((k) => k.keyPrefix)
        .sort(),
    ).toEqual([legacyKey.slice(0, 8), oldBootstrap.slice(0, 8)].sort());
  });
});
