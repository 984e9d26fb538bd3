import type { TokenRow } from '@vault/persistence';
import { TokenRowCache, type TokenCacheResult } from './token-row-cache';

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A clock the test moves, and a loader whose reads the test finishes when it wants. */
function setup(options: { maxAgeMs?: number; maxEntries?: number } = {}) {
  let now = T0;
  const counts: TokenCacheResult[] = [];
  const cache = new TokenRowCache(
    { maxAgeMs: options.maxAgeMs ?? 1000, maxEntries: options.maxEntries ?? 100, now: () => now },
    (r) => counts.push(r),
  );
  const stored = new Map<string, TokenRow | null>();
  const pending: { id: string; finish: () => void }[] = [];
  let loads = 0;
  /** Reads `stored` when the test calls `finishLoads` (or at once when `instant`). */
  let instant = true;
  const load = (id: string) => {
    loads += 1;
    const snapshot = stored.get(id) ?? null;
    if (instant) return Promise.resolve(snapshot);
    return new Promise<TokenRow | null>((resolve) => pending.push({ id, finish: () => resolve(snapshot) }));
  };
  return {
    cache,
    counts,
    stored,
    load,
    read: (id: string) => cache.read(id, load),
    advance: (ms: number) => (now += ms),
    loads: () => loads,
    deferLoads: () => (instant = false),
    finishLoads: async () => {
      for (const p of pending.splice(0)) p.finish();
      await new Promise((r) => setImmediate(r));
    },
  };
}

const row = (id: string, over: Partial<TokenRow> = {}): TokenRow => ({
  id,
  tenantId: 't1',
  status: 'active',
  statusReason: null,
  accessTokenSealed: Buffer.from(`sealed-${id}`),
  accessTokenExpiresAt: new Date(T0 + 3600_000),
  tokenType: 'Bearer',
  scopes: [],
  ...over,
});

describe('TokenRowCache', () => {
  it('reads through to the database on every call until it is live (subscribed to invalidations)', async () => {
    const t = setup();
    t.stored.set('a', row('a'));
    await t.read('a');
    expect(await t.read('a')).toEqual({ row: row('a'), cached: false });
    expect(t.loads()).toBe(2);
    expect(t.counts).toEqual(['bypass', 'bypass']);
  });

  it('answers a live hit from memory without a database read', async () => {
    const t = setup();
    t.cache.setLive(true);
    t.stored.set('a', row('a'));
    expect(await t.read('a')).toEqual({ row: row('a'), cached: false });
    t.stored.set('a', row('a', { tokenType: 'changed behind its back' }));
    expect(await t.read('a')).toEqual({ row: row('a'), cached: true });
    expect(t.loads()).toBe(1);
    expect(t.counts).toEqual(['miss', 'hit']);
  });

  it('answers an entry for at most the maximum age, counted from when its database read began', async () => {
    const t = setup({ maxAgeMs: 1000 });
    t.cache.setLive(true);
    t.stored.set('a', row('a'));
    t.deferLoads();
    const first = t.read('a');
    t.advance(300); // the read takes 300 ms
    await t.finishLoads();
    await first;
    t.advance(699);
    expect((await t.read('a')).cached).toBe(true);
    t.advance(2); // past 1000 ms after the read began
    const after = t.read('a');
    await t.finishLoads();
    expect((await after).cached).toBe(false);
    expect(t.loads()).toBe(2);
  });

  it('keeps nothing read more slowly than the maximum age', async () => {
    const t = setup({ maxAgeMs: 1000 });
    t.cache.setLive(true);
    t.stored.set('a', row('a'));
    t.deferLoads();
    const slow = t.read('a');
    t.advance(1000);
    await t.finishLoads();
    await slow;
    const again = t.read('a');
    await t.finishLoads();
    expect((await again).cached).toBe(false);
    expect(t.loads()).toBe(2);
  });

  it('drops an invalidated entry at once, and every entry on an invalidation of all', async () => {
    const t = setup();
    t.cache.setLive(true);
    for (const id of ['a', 'b', 'c']) {
      t.stored.set(id, row(id));
      await t.read(id);
    }
    t.cache.invalidate(['a']);
    expect((await t.read('a')).cached).toBe(false);
    expect((await t.read('b')).cached).toBe(true);
    t.cache.invalidate('all');
    expect((await t.read('b')).cached).toBe(false);
    expect((await t.read('c')).cached).toBe(false);
  });

  it('never keeps a row whose read was under way when its invalidation arrived', async () => {
    const t = setup();
    t.cache.setLive(true);
    t.stored.set('a', row('a', { tokenType: 'old' }));
    t.deferLoads();
    const before = t.read('a'); // reads the old row...
    t.stored.set('a', row('a', { tokenType: 'new' }));
    t.cache.invalidate(['a']); // ...while the write commits and is announced
    const after = t.read('a'); // a read begun after the announcement does not join the old read
    await t.finishLoads();
    expect((await before).row?.tokenType).toBe('old');
    expect((await after).row?.tokenType).toBe('new');
    const next = await t.read('a');
    expect(next).toEqual({ row: row('a', { tokenType: 'new' }), cached: true });
    expect(t.loads()).toBe(2);
  });

  it('shares one database read among concurrent misses of a connection', async () => {
    const t = setup();
    t.cache.setLive(true);
    t.stored.set('a', row('a'));
    t.deferLoads();
    const reads = [t.read('a'), t.read('a'), t.read('a')];
    await t.finishLoads();
    expect((await Promise.all(reads)).map((r) => r.row?.id)).toEqual(['a', 'a', 'a']);
    expect(t.loads()).toBe(1);
  });

  it('keeps only rows that could be answered: not missing, flagged, revoked, tokenless or expired ones', async () => {
    const t = setup();
    t.cache.setLive(true);
    t.stored.set('flagged', row('flagged', { status: 'needs_reauth', statusReason: 'invalid_grant' }));
    t.stored.set('revoked', row('revoked', { status: 'revoked' }));
    t.stored.set('tokenless', row('tokenless', { accessTokenSealed: null }));
    t.stored.set('expired', row('expired', { accessTokenExpiresAt: new Date(T0 - 1) }));
    t.stored.set('failing', row('failing', { status: 'refresh_failing' }));
    for (const id of ['missing', 'flagged', 'revoked', 'tokenless', 'expired', 'failing']) await t.read(id);
    const cached = [];
    for (const id of ['missing', 'flagged', 'revoked', 'tokenless', 'expired', 'failing'])
      if ((await t.read(id)).cached) cached.push(id);
    expect(cached).toEqual(['failing']);
  });

  it('turned off (subscription lost) forgets everything and reads through; turned on again it starts empty', async () => {
    const t = setup();
    t.cache.setLive(true);
    t.stored.set('a', row('a'));
    await t.read('a');
    t.deferLoads();
    const underWay = t.read('b');
    t.cache.setLive(false);
    await t.finishLoads();
    await underWay;
    expect(t.cache.size).toBe(0);
    const whileOff = t.read('a');
    await t.finishLoads();
    expect((await whileOff).cached).toBe(false);
    expect(t.cache.size).toBe(0);
    t.cache.setLive(true);
    const on = t.read('a');
    await t.finishLoads();
    expect((await on).cached).toBe(false);
    expect((await t.read('a')).cached).toBe(true);
  });

  it('holds at most maxEntries rows, the least recently used leaving first', async () => {
    const t = setup({ maxEntries: 2 });
    t.cache.setLive(true);
    for (const id of ['a', 'b']) {
      t.stored.set(id, row(id));
      await t.read(id);
    }
    await t.read('a'); // a is now more recent than b
    t.stored.set('c', row('c'));
    await t.read('c');
    expect(t.cache.size).toBe(2);
    expect((await t.read('a')).cached).toBe(true);
    expect((await t.read('b')).cached).toBe(false);
  });

  it('never turns live with a maximum age of 0 (the cache is off)', async () => {
    const t = setup({ maxAgeMs: 0 });
    t.cache.setLive(true);
    t.stored.set('a', row('a'));
    await t.read('a');
    expect(await t.read('a')).toEqual({ row: row('a'), cached: false });
    expect(t.cache.isLive).toBe(false);
  });
});
