import { VaultClient } from './client';
import { startFakeVault, tokenAnswer, type FakeVault } from './testing/fake-vault';

/** Caching and request sharing of getToken, against a node:http fake and a clock the test moves. */
describe('VaultClient.getToken: cache and single flight', () => {
  let vault: FakeVault;
  let shift = 0;
  const now = () => Date.now() + shift;
  const client = (extra = {}) =>
    new VaultClient({ baseUrl: vault.url, apiKey: 'test-key-0001', now, ...extra });
  const ID = '7d0c2a52-3f1e-4a8e-9a63-5d1f0c6b9e11';

  beforeEach(async () => {
    shift = 0;
    vault = await startFakeVault();
  });
  afterEach(() => vault.close());

  it('asks the vault once, then serves from memory until expires_at − minTtl', async () => {
    vault.answers = [tokenAnswer(ID, 'tok-1', 600), tokenAnswer(ID, 'tok-2', 600, Date.now() + 541_000)];
    const vc = client();
    expect((await vc.getToken(ID, { minTtl: 60 })).access_token).toBe('tok-1');
    expect(vault.seen).toHaveLength(1);
    expect(vault.seen[0]).toMatchObject({
      method: 'GET',
      url: `/v1/connections/${ID}/token?min_ttl=60`,
      authorization: 'Bearer test-key-0001',
    });
    for (let i = 0; i < 50; i++) await vc.getToken(ID, { minTtl: 60 });
    shift = 530_000; // 600 − 60 − 530 = 10 s of margin left (less ~1 s for the Date header's resolution)
    expect((await vc.getToken(ID, { minTtl: 60 })).access_token).toBe('tok-1');
    expect(vault.seen).toHaveLength(1);

    shift = 541_000; // the token no longer lives 60 s more
    expect((await vc.getToken(ID, { minTtl: 0 })).access_token).toBe('tok-1');
    expect(vault.seen).toHaveLength(1);
    expect((await vc.getToken(ID, { minTtl: 60 })).access_token).toBe('tok-2');
    expect(vault.seen).toHaveLength(2);
    expect((await vc.getToken(ID, { minTtl: 60 })).access_token).toBe('tok-2');
    expect(vault.seen).toHaveLength(2);
  });

  it('asks again when the caller needs more than the cached token has left', async () => {
    vault.answers = [tokenAnswer(ID, 'short', 120), tokenAnswer(ID, 'long', 3600)];
    const vc = client();
    expect((await vc.getToken(ID)).access_token).toBe('short');
    expect((await vc.getToken(ID, { minTtl: 600 })).access_token).toBe('long');
    expect(vault.seen.map((s) => s.url)).toEqual([
      `/v1/connections/${ID}/token?min_ttl=60`,
      `/v1/connections/${ID}/token?min_ttl=600`,
    ]);
    // the longer-lived token now serves every shorter minTtl
    expect((await vc.getToken(ID, { minTtl: 30 })).access_token).toBe('long');
    expect(vault.seen).toHaveLength(2);
  });

  it("shortens a token's life by how far the vault's clock is ahead (its Date header)", async () => {
    const ahead = 10 * 60_000;
    // The vault's clock is 10 min ahead; its token lives 15 min by that clock, so 15 min by ours too.
    const answer = tokenAnswer(ID, 'tok', 15 * 60, Date.now() + ahead);
    vault.answers = [{ ...answer, headers: { date: new Date(Date.now() + ahead).toUTCString() } }];
    const vc = client();
    await vc.getToken(ID, { minTtl: 60 });
    shift = 780_000; // 2 min left
    await vc.getToken(ID, { minTtl: 60 });
    expect(vault.seen).toHaveLength(1);
    shift = 870_000; // 30 s left here (read naively, expires_at would still be 10.5 min away)
    await vc.getToken(ID, { minTtl: 60 });
    expect(vault.seen).toHaveLength(2);
  });

  it('shares one request among concurrent calls for the same connection and minTtl', async () => {
    let release: () => void = () => undefined;
    const hold = new Promise<void>((r) => (release = r));
    vault.answers = [{ ...tokenAnswer(ID, 'shared', 600), hold }];
    const vc = client();
    const calls = Array.from({ length: 20 }, () => vc.getToken(ID, { minTtl: 60 }));
    const other = vc.getToken(ID, { minTtl: 120 });
    await new Promise((r) => setTimeout(r, 50));
    release();
    const tokens = await Promise.all([...calls, other]);
    expect(new Set(tokens.map((t) => t.access_token))).toEqual(new Set(['shared']));
    expect(vault.seen.map((s) => s.url).sort()).toEqual([
      `/v1/connections/${ID}/token?min_ttl=120`,
      `/v1/connections/${ID}/token?min_ttl=60`,
    ]);
  });

  it('caches no failure: the next call asks again', async () => {
    vault.answers = [
      { status: 404, body: { error: 'not_found', message: 'connection not found' } },
      tokenAnswer(ID, 'tok', 600),
    ];
    const vc = client();
    await expect(vc.getToken(ID)).rejects.toMatchObject({ status: 404 });
    expect((await vc.getToken(ID)).access_token).toBe('tok');
    expect(vault.seen).toHaveLength(2);
  });

  it('lets one caller stop waiting while the shared request goes on for the others', async () => {
    let release: () => void = () => undefined;
    const hold = new Promise<void>((r) => (release = r));
    vault.answers = [{ ...tokenAnswer(ID, 'tok', 600), hold }];
    const vc = client();
    const ac = new AbortController();
    const impatient = vc.getToken(ID, { signal: ac.signal });
    const patient = vc.getToken(ID);
    ac.abort();
    await expect(impatient).rejects.toMatchObject({ name: 'AbortError' });
    release();
    expect((await patient).access_token).toBe('tok');
    expect(vault.seen).toHaveLength(1);
  });

  it('forgets a token on invalidate, on refresh and past maxCachedTokens', async () => {
    vault.answers = [tokenAnswer(ID, 'tok', 600)];
    const vc = client({ maxCachedTokens: 2 });
    await vc.getToken(ID);
    vc.invalidate(ID);
    await vc.getToken(ID);
    await vc.refresh(ID);
    await vc.getToken(ID);
    expect(vault.seen.map((s) => `${s.method} ${s.url.split('?')[0]}`)).toEqual([
      `GET /v1/connections/${ID}/token`,
      `GET /v1/connections/${ID}/token`,
      `POST /v1/connections/${ID}/refresh`,
      `GET /v1/connections/${ID}/token`,
    ]);
    await vc.getToken('b');
    await vc.getToken('c'); // evicts ID, fetched longest ago
    await vc.getToken(ID);
    expect(vault.seen.map((s) => s.url.split('?')[0]).slice(4)).toEqual([
      '/v1/connections/b/token',
      '/v1/connections/c/token',
      `/v1/connections/${ID}/token`,
    ]);
  });

  it('refuses a minTtl the API would refuse, without a request', () => {
    const vc = client();
    expect(() => vc.getToken(ID, { minTtl: -1 })).toThrow(RangeError);
    expect(() => vc.getToken(ID, { minTtl: 1.5 })).toThrow(RangeError);
    expect(() => vc.getToken(ID, { minTtl: 86_401 })).toThrow(RangeError);
    expect(vault.seen).toHaveLength(0);
  });
});
