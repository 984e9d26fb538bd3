import { VaultClient } from './client';
import { UnavailableError, VaultConnectionError } from './errors';
import { retryAfterSeconds } from './transport';
import { startFakeVault, tokenAnswer, type FakeVault } from './testing/fake-vault';

/** 503s retried as Retry-After says within the deadline, and transport failures, against a node:http fake. */
describe('VaultClient: 503 retries and transport failures', () => {
  let vault: FakeVault;
  const ID = 'c-1';
  const busy = (retryAfter: number | null, headers: Record<string, string> = {}) => ({
    status: 503,
    body: {
      error: 'provider_unavailable',
      message: 'no access token valid for min_ttl is available now',
      ...(retryAfter === null ? {} : { retry_after: retryAfter }),
    },
    headers,
  });
  /** A clock that only the client's sleeps move, and the sleeps it asked for. */
  const fakeTime = () => {
    const t = { now: 1_900_000_000_000, slept: [] as number[] };
    return {
      t,
      now: () => t.now,
      sleep: (ms: number) => {
        t.slept.push(ms);
        t.now += ms;
        return Promise.resolve();
      },
    };
  };

  beforeEach(async () => {
    vault = await startFakeVault();
  });
  afterEach(() => vault.close());

  it('waits as the Retry-After header says, else as retry_after says, then serves the token', async () => {
    const time = fakeTime();
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: 'k-0001', ...time, retryDeadlineMs: 10_000 });
    vault.answers = [busy(2, { 'retry-after': '2' }), busy(3), tokenAnswer(ID, 'tok', 600)];
    expect((await vc.getToken(ID)).access_token).toBe('tok');
    expect(time.t.slept).toEqual([2000, 3000]);
    expect(vault.seen).toHaveLength(3);
  });

  it('really waits: the retry reaches the server no sooner than Retry-After after the 503', async () => {
    vault.answers = [busy(1, { 'retry-after': '1' }), tokenAnswer(ID, 'tok', 600)];
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: 'k-0001' });
    expect((await vc.getToken(ID)).access_token).toBe('tok');
    expect(vault.seen).toHaveLength(2);
    expect(vault.seen[1]!.at - vault.answeredAt[0]!).toBeGreaterThanOrEqual(1000 - 5);
  });

  it('gives up with UnavailableError once the next wait would pass the deadline', async () => {
    const time = fakeTime();
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: 'k-0001', ...time, retryDeadlineMs: 2500 });
    vault.answers = [busy(1, { 'retry-after': '1' })];
    const err = await vc.getToken(ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ code: 'provider_unavailable', status: 503, retryAfter: 1 });
    expect(time.t.slept).toEqual([1000, 1000]);
    expect(vault.seen).toHaveLength(3);
  });

  it('does not wait at all when Retry-After is beyond the deadline, or retries are off', async () => {
    vault.answers = [busy(30, { 'retry-after': '30' })];
    const time = fakeTime();
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: 'k-0001', ...time, retryDeadlineMs: 5000 });
    await expect(vc.getToken(ID)).rejects.toMatchObject({ name: 'UnavailableError', retryAfter: 30 });
    await expect(vc.getToken(ID, { retryDeadlineMs: 0, minTtl: 1 })).rejects.toBeInstanceOf(UnavailableError);
    expect(time.t.slept).toEqual([]);
    expect(vault.seen).toHaveLength(2);
  });

  it('retries a 503 without JSON (a proxy) after 1 s by default', async () => {
    vault.answers = [{ status: 503, body: '<html>busy</html>' }, tokenAnswer(ID, 'tok', 600)];
    const time = fakeTime();
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: 'k-0001', ...time });
    expect((await vc.getToken(ID)).access_token).toBe('tok');
    expect(time.t.slept).toEqual([1000]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryAfterSeconds('7', null, now)).toBe(7);
    expect(retryAfterSeconds('Tue, 01 Jan 2030 00:00:12 GMT', null, now)).toBe(12);
    expect(retryAfterSeconds(null, { retry_after: 4 }, now)).toBe(4);
    expect(retryAfterSeconds('soon', { retry_after: 'x' }, now)).toBeNull();
  });

  it('throws VaultConnectionError when nothing answers, or not within requestTimeoutMs', async () => {
    vault.answers = [{ status: 200, hang: true }];
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: 'k-secret-0001', requestTimeoutMs: 200 });
    const hung = await vc.getToken(ID).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(VaultConnectionError);
    expect(hung).toMatchObject({ code: 'connection_failed', status: 0 });
    const url = vault.url;
    await vault.close();
    vault = await startFakeVault();
    const down = new VaultClient({ baseUrl: url, apiKey: 'k-secret-0001' });
    const refused = await down.getToken(ID).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VaultConnectionError);
    for (const e of [hung, refused] as Error[])
      expect(`${e.message} ${e.stack}`).not.toContain('k-secret-0001');
  });
});
