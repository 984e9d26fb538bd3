import type { EnvelopeCipher } from '@vault/crypto';
import type { ConnectionsRepository, TokenRow } from '@vault/persistence';
import { TokenRowCache } from './token-row-cache';
import { TokenService, isFresh } from './token.service';

describe('isFresh', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const row = (over: Partial<TokenRow>): TokenRow => ({
    id: 'c',
    tenantId: 't',
    status: 'active',
    statusReason: null,
    accessTokenSealed: Buffer.from('x'),
    accessTokenExpiresAt: new Date(now + 120_000),
    tokenType: 'Bearer',
    scopes: [],
    ...over,
  });

  it('is fresh when the token outlives min_ttl', () => {
    expect(isFresh(row({}), 60, now)).toBe(true);
    expect(isFresh(row({}), 120, now)).toBe(true);
  });

  it('is not fresh when the token expires within min_ttl', () => {
    expect(isFresh(row({}), 121, now)).toBe(false);
  });

  it('is never fresh without a token, an expiry, or when re-consent is needed', () => {
    expect(isFresh(row({ accessTokenSealed: null }), 0, now)).toBe(false);
    expect(isFresh(row({ accessTokenExpiresAt: null }), 0, now)).toBe(false);
    expect(isFresh(row({ status: 'needs_reauth' }), 0, now)).toBe(false);
    expect(isFresh(row({ status: 'revoked' }), 0, now)).toBe(false);
  });
});

describe('TokenService with the token cache', () => {
  const now = Date.now();
  const row = (over: Partial<TokenRow> = {}): TokenRow => ({
    id: 'c1',
    tenantId: 'acme',
    status: 'active',
    statusReason: null,
    accessTokenSealed: Buffer.from('token-v1'),
    accessTokenExpiresAt: new Date(now + 600_000),
    tokenType: 'Bearer',
    scopes: [],
    ...over,
  });

  /** A live cache in front of a "database" the test changes without telling the cache (a lost message). */
  function setup(first: TokenRow) {
    let stored: TokenRow | null = first;
    const reads: string[] = [];
    const refreshes: number[] = [];
    const repo = {
      findTokenRow: (id: string) => {
        reads.push(id);
        return Promise.resolve(stored);
      },
    } as unknown as ConnectionsRepository;
    const cipher = {
      openCached: (sealed: Buffer) => sealed.toString(),
      open: (sealed: Buffer) => Promise.resolve(sealed.toString()),
    } as unknown as EnvelopeCipher;
    const refresher = {
      refreshForRead: (_id: string, minTtl: number) => {
        refreshes.push(minTtl);
        stored = row({
          accessTokenSealed: Buffer.from('token-refreshed'),
          accessTokenExpiresAt: new Date(now + 7200_000),
        });
        return Promise.resolve(stored);
      },
    };
    const cache = new TokenRowCache({ maxAgeMs: 60_000, maxEntries: 10, now: Date.now });
    cache.setLive(true);
    const service = new TokenService(repo, cipher, refresher, cache);
    return {
      service,
      cache,
      reads,
      refreshes,
      setStored: (r: TokenRow | null) => (stored = r),
    };
  }
  const platform = { tenantId: null };

  it('answers a cached row without a database read', async () => {
    const t = setup(row());
    expect((await t.service.getToken(platform, 'c1', 60)).accessToken).toBe('token-v1');
    expect((await t.service.getToken(platform, 'c1', 60)).accessToken).toBe('token-v1');
    expect(t.reads).toEqual(['c1']);
  });

  it("applies the tenant check to a cached row: another tenant's key gets 404", async () => {
    const t = setup(row());
    await t.service.getToken(platform, 'c1', 60);
    await expect(t.service.getToken({ tenantId: 'other' }, 'c1', 60)).rejects.toMatchObject({
      code: 'not_found',
    });
    expect((await t.service.getToken({ tenantId: 'acme' }, 'c1', 60)).accessToken).toBe('token-v1');
    expect(t.reads).toEqual(['c1']);
  });

  it('reads the stored row when the cached one is not valid for min_ttl, and serves it if it is', async () => {
    const t = setup(row());
    await t.service.getToken(platform, 'c1', 60);
    // The worker refreshed it; the cache did not hear of it.
    t.setStored(
      row({ accessTokenSealed: Buffer.from('token-v2'), accessTokenExpiresAt: new Date(now + 7200_000) }),
    );
    expect((await t.service.getToken(platform, 'c1', 3600)).accessToken).toBe('token-v2');
    expect(t.refreshes).toEqual([]);
    expect(t.reads).toEqual(['c1', 'c1']);
  });

  it('refreshes when neither the cached nor the stored row is valid for min_ttl', async () => {
    const t = setup(row());
    await t.service.getToken(platform, 'c1', 60);
    expect((await t.service.getToken(platform, 'c1', 3600)).accessToken).toBe('token-refreshed');
    expect(t.refreshes).toEqual([3600]);
  });

  it('answers 409 from the stored row when the cached one is fine but min_ttl is not met and it was flagged', async () => {
    const t = setup(row());
    await t.service.getToken(platform, 'c1', 60);
    t.setStored(row({ status: 'needs_reauth', statusReason: 'invalid_grant' }));
    await expect(t.service.getToken(platform, 'c1', 3600)).rejects.toMatchObject({
      code: 'reauth_required',
      details: { reason: 'invalid_grant' },
    });
    expect(t.refreshes).toEqual([]);
  });

  describe('cachedToken: the synchronous answer from memory alone', () => {
    it('answers nothing before the row was read, then the cached row without a read', async () => {
      const t = setup(row());
      expect(t.service.cachedToken(platform, 'c1', 60)).toBeNull();
      expect(t.reads).toEqual([]);
      await t.service.getToken(platform, 'c1', 60);
      expect(t.service.cachedToken(platform, 'c1', 60)).toMatchObject({
        connectionId: 'c1',
        accessToken: 'token-v1',
      });
      expect(t.service.cachedToken({ tenantId: 'acme' }, 'c1', 60)?.accessToken).toBe('token-v1');
      expect(t.reads).toEqual(['c1']);
    });

    it('declines what getToken must decide: another tenant, a min_ttl the row does not meet', async () => {
      const t = setup(row());
      await t.service.getToken(platform, 'c1', 60);
      expect(t.service.cachedToken({ tenantId: 'other' }, 'c1', 60)).toBeNull();
      expect(t.service.cachedToken(platform, 'c1', 3600)).toBeNull();
      expect(t.service.cachedToken(platform, 'c2', 60)).toBeNull();
      expect(t.refreshes).toEqual([]);
    });

    it('declines when the data key is not in memory or the sealed token does not open', async () => {
      const fails: (() => string | undefined)[] = [
        () => undefined,
        () => {
          throw new Error('tampered');
        },
      ];
      for (const failing of fails) {
        let openCached: () => string | undefined = () => 'opened';
        const cache = new TokenRowCache({ maxAgeMs: 60_000, maxEntries: 10, now: Date.now });
        cache.setLive(true);
        const repo = { findTokenRow: () => Promise.resolve(row()) } as unknown as ConnectionsRepository;
        const cipher = { openCached: () => openCached() } as unknown as EnvelopeCipher;
        const refresher = { refreshForRead: () => Promise.reject(new Error('no')) };
        const service = new TokenService(repo, cipher, refresher, cache);
        await service.getToken(platform, 'c1', 60);
        expect(service.cachedToken(platform, 'c1', 60)?.accessToken).toBe('opened');
        openCached = failing;
        expect(service.cachedToken(platform, 'c1', 60)).toBeNull();
      }
    });

    it('declines while the cache is not live (its invalidations are not heard)', async () => {
      const t = setup(row());
      await t.service.getToken(platform, 'c1', 60);
      t.cache.setLive(false);
      expect(t.service.cachedToken(platform, 'c1', 60)).toBeNull();
    });

    it('counts a hit only when it answers', async () => {
      const counted: string[] = [];
      const cache = new TokenRowCache({ maxAgeMs: 60_000, maxEntries: 10, now: Date.now }, (r) =>
        counted.push(r),
      );
      cache.setLive(true);
      const repo = { findTokenRow: () => Promise.resolve(row()) } as unknown as ConnectionsRepository;
      const cipher = { openCached: (b: Buffer) => b.toString() } as unknown as EnvelopeCipher;
      const service = new TokenService(
        repo,
        cipher,
        { refreshForRead: () => Promise.reject(new Error('no')) },
        cache,
      );
      await service.getToken(platform, 'c1', 60);
      service.cachedToken({ tenantId: 'other' }, 'c1', 60);
      service.cachedToken(platform, 'c1', 60);
      expect(counted).toEqual(['miss', 'hit']);
    });
  });
});
