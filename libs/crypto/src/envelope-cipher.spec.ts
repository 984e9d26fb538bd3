import { randomBytes, randomUUID } from 'node:crypto';
import { MemoryDataKeyStore, cryptoErrorCode } from '@vault/crypto/testing';
import { EnvelopeCipher, type EnvelopeOptions } from './envelope-cipher';
import { CryptoError } from './errors';
import { LocalKms } from './local-kms';
import { sealWithKey } from './sealed';
import type { CryptoMetrics } from './types';

class CountingMetrics implements CryptoMetrics {
  readonly kms: Record<string, number> = {};
  hits = 0;
  misses = 0;
  kmsRequest(operation: string, outcome: string): void {
    const k = `${operation}:${outcome}`;
    this.kms[k] = (this.kms[k] ?? 0) + 1;
  }
  dataKeyCache(result: 'hit' | 'miss'): void {
    if (result === 'hit') this.hits += 1;
    else this.misses += 1;
  }
  count(operation: string): number {
    return (this.kms[`${operation}:success`] ?? 0) + (this.kms[`${operation}:error`] ?? 0);
  }
}

const aadOf = (i: number, field = 'refresh_token') =>
  `connection:00000000-0000-4000-8000-${String(i).padStart(12, '0')}:${field}`;

function setup(overrides: Partial<EnvelopeOptions> = {}) {
  let clock = 1_700_000_000_000;
  const now = () => clock;
  const masterKey = randomBytes(32);
  const metrics = new CountingMetrics();
  const kms = new LocalKms({ masterKey, keyId: 'master-v1', metrics });
  const store = new MemoryDataKeyStore(now);
  const options: EnvelopeOptions = {
    dataKeyMaxAgeMs: 86_400_000,
    dataKeyMaxUses: 1_000_000,
    cacheMaxEntries: 100,
    cacheMaxAgeMs: 3_600_000,
    now,
    ...overrides,
  };
  const newCipher = (driver = kms, m: CountingMetrics = metrics) =>
    new EnvelopeCipher(driver, store, options, m);
  return {
    kms,
    store,
    metrics,
    masterKey,
    options,
    newCipher,
    cipher: newCipher(),
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('EnvelopeCipher', () => {
  it('seals and opens; the sealed value names the stored data key', async () => {
    const { cipher, store } = setup();
    const sealed = await cipher.seal('refresh-token-value', aadOf(1));
    expect(await cipher.open(sealed, aadOf(1))).toBe('refresh-token-value');
    const [record] = await store.listAll();
    expect(cipher.dataKeyIdOf(sealed)).toBe(record?.id);
    expect(store.size).toBe(1);
  });

  it('rejects tampering, a moved ciphertext and an unknown format version with clear codes', async () => {
    const { cipher } = setup();
    const sealed = await cipher.seal('secret', aadOf(1));
    const badTag = Buffer.from(sealed);
    badTag[badTag.length - 1] = badTag[badTag.length - 1]! ^ 1;
    expect(await cryptoErrorCode(cipher.open(badTag, aadOf(1)))).toBe('tampered');
    expect(await cryptoErrorCode(cipher.open(sealed, aadOf(2)))).toBe('tampered'); // another row
    expect(await cryptoErrorCode(cipher.open(sealed, aadOf(1, 'access_token')))).toBe('tampered'); // another field
    const v9 = Buffer.from(sealed);
    v9[0] = 9;
    expect(await cryptoErrorCode(cipher.open(v9, aadOf(1)))).toBe('unknown_format_version');
    expect(await cryptoErrorCode(cipher.open(sealed.subarray(0, 20), aadOf(1)))).toBe('malformed');
  });

  it('reports unknown_data_key for a key id that is not in the store', async () => {
    const { cipher, store } = setup();
    const sealed = sealWithKey(randomBytes(32), randomUUID(), 'x', aadOf(1));
    expect(await cryptoErrorCode(cipher.open(sealed, aadOf(1)))).toBe('unknown_data_key');
    expect(store.size).toBe(0);
  });

  it('fails with kms_unwrap_failed when the master key is wrong', async () => {
    const { cipher, newCipher } = setup();
    const sealed = await cipher.seal('secret', aadOf(1));
    const wrong = newCipher(new LocalKms({ masterKey: randomBytes(32), keyId: 'master-v1' }));
    expect(await cryptoErrorCode(wrong.open(sealed, aadOf(1)))).toBe('kms_unwrap_failed');
    expect(await cryptoErrorCode(wrong.seal('another', aadOf(2)))).toBe('kms_unwrap_failed'); // cannot unwrap the active key
  });

  it('keeps KMS calls constant in the number of seals and opens', async () => {
    const { cipher, newCipher, metrics } = setup();
    const sealed = await Promise.all(
      Array.from({ length: 50 }, (_, i) => cipher.seal(`token-${i}`, aadOf(i))),
    );
    expect(metrics.count('GenerateDataKey')).toBe(1);
    expect(metrics.count('Decrypt')).toBe(0);

    const reader = newCipher(); // another process: cold cache
    for (let round = 0; round < 3; round++) {
      for (const [i, s] of sealed.entries()) expect(await reader.open(s, aadOf(i))).toBe(`token-${i}`);
    }
    expect(metrics.count('Decrypt')).toBe(1);
    expect(metrics.count('GenerateDataKey')).toBe(1);
    expect(metrics.misses).toBe(1);
    expect(metrics.hits).toBeGreaterThanOrEqual(149);
  });

  it('single-flights data key creation on a cold start', async () => {
    const { cipher, store, metrics } = setup();
    const sealed = await Promise.all(Array.from({ length: 20 }, (_, i) => cipher.seal(`t${i}`, aadOf(i))));
    expect(metrics.count('GenerateDataKey')).toBe(1);
    expect(store.calls.insert).toBe(1);
    expect(store.calls.findActive).toBe(1);
    expect(new Set(sealed.map((s) => cipher.dataKeyIdOf(s))).size).toBe(1);
  });

  it('single-flights the unwrap of a cold key shared by concurrent opens', async () => {
    const { cipher, newCipher, store, metrics } = setup();
    const sealed = await cipher.seal('shared', aadOf(1));
    const reader = newCipher();
    const opened = await Promise.all(Array.from({ length: 20 }, () => reader.open(sealed, aadOf(1))));
    expect(opened.every((v) => v === 'shared')).toBe(true);
    expect(metrics.count('Decrypt')).toBe(1);
    expect(store.calls.findById).toBe(1);
  });

  it('reuses the active key of the store on a cold start instead of generating one', async () => {
    const { cipher, newCipher, store, metrics } = setup();
    await cipher.seal('a', aadOf(1));
    const second = newCipher();
    const sealed = await second.seal('b', aadOf(2));
    expect(store.size).toBe(1);
    expect(metrics.count('GenerateDataKey')).toBe(1);
    expect(metrics.count('Decrypt')).toBe(1);
    expect(await cipher.open(sealed, aadOf(2))).toBe('b');
  });

  it('replaces the data key after dataKeyMaxUses seals, also under concurrency', async () => {
    const { cipher, store } = setup({ dataKeyMaxUses: 3 });
    const first = [];
    for (let i = 0; i < 7; i++) first.push(await cipher.seal(`s${i}`, aadOf(i)));
    const ids = first.map((s) => cipher.dataKeyIdOf(s));
    expect(new Set(ids.slice(0, 3)).size).toBe(1);
    expect(new Set(ids.slice(3, 6)).size).toBe(1);
    expect(new Set(ids).size).toBe(3);
    expect(store.size).toBe(3);

    const concurrent = await Promise.all(Array.from({ length: 9 }, (_, i) => cipher.seal(`c${i}`, aadOf(i))));
    const perKey = new Map<string, number>();
    for (const s of concurrent)
      perKey.set(cipher.dataKeyIdOf(s), (perKey.get(cipher.dataKeyIdOf(s)) ?? 0) + 1);
    expect(Math.max(...perKey.values())).toBeLessThanOrEqual(3);
    for (const [i, s] of first.entries()) expect(await cipher.open(s, aadOf(i))).toBe(`s${i}`);
  });

  it('replaces the data key after dataKeyMaxAgeMs since its creation', async () => {
    const { cipher, newCipher, store, advance, metrics } = setup({ dataKeyMaxAgeMs: 60_000 });
    const a = await cipher.seal('a', aadOf(1));
    advance(59_999);
    const b = await cipher.seal('b', aadOf(2));
    expect(cipher.dataKeyIdOf(b)).toBe(cipher.dataKeyIdOf(a));
    advance(1);
    const c = await cipher.seal('c', aadOf(3));
    expect(cipher.dataKeyIdOf(c)).not.toBe(cipher.dataKeyIdOf(a));
    expect(store.size).toBe(2);
    // a process starting later does not pick up the expired key either
    advance(60_000);
    const d = await newCipher().seal('d', aadOf(4));
    expect(store.size).toBe(3);
    expect(metrics.count('GenerateDataKey')).toBe(3);
    expect(await cipher.open(a, aadOf(1))).toBe('a');
    expect(await cipher.open(d, aadOf(4))).toBe('d');
  });

  it('bounds the data key cache with LRU eviction', async () => {
    const { cipher, newCipher, metrics } = setup({ dataKeyMaxUses: 1, cacheMaxEntries: 2 });
    const [a, b, c] = [
      await cipher.seal('a', aadOf(1)),
      await cipher.seal('b', aadOf(2)),
      await cipher.seal('c', aadOf(3)),
    ];
    const reader = newCipher();
    const decrypts = () => metrics.count('Decrypt');
    await reader.open(a, aadOf(1));
    await reader.open(b, aadOf(2));
    expect(decrypts()).toBe(2);
    await reader.open(a, aadOf(1)); // a is now most recently used
    expect(decrypts()).toBe(2);
    await reader.open(c, aadOf(3)); // evicts b, the least recently used
    expect(decrypts()).toBe(3);
    expect(reader.openCached(a, aadOf(1))).toBe('a');
    expect(reader.openCached(b, aadOf(2))).toBeUndefined();
    await reader.open(b, aadOf(2));
    expect(decrypts()).toBe(4);
  });

  it('expires cached data keys after cacheMaxAgeMs', async () => {
    const { cipher, newCipher, advance, metrics } = setup({ cacheMaxAgeMs: 10_000 });
    const sealed = await cipher.seal('x', aadOf(1));
    const reader = newCipher();
    await reader.open(sealed, aadOf(1));
    advance(9_999);
    expect(reader.openCached(sealed, aadOf(1))).toBe('x');
    expect(metrics.count('Decrypt')).toBe(1);
    advance(2); // older than cacheMaxAgeMs (lru-cache's ttl: stale once older, not at the age itself)
    expect(reader.openCached(sealed, aadOf(1))).toBeUndefined();
    expect(await reader.open(sealed, aadOf(1))).toBe('x');
    expect(metrics.count('Decrypt')).toBe(2);
  });

  it('openCached is synchronous on a hit, undefined on a miss, and still detects tampering', async () => {
    const { cipher, newCipher, metrics } = setup();
    const sealed = await cipher.seal('hot', aadOf(1));
    expect(cipher.openCached(sealed, aadOf(1))).toBe('hot');
    const cold = newCipher();
    const missesBefore = metrics.misses;
    expect(cold.openCached(sealed, aadOf(1))).toBeUndefined();
    expect(metrics.misses).toBe(missesBefore + 1);
    expect(() => cipher.openCached(sealed, aadOf(2))).toThrow(expect.objectContaining({ code: 'tampered' }));
  });

  it('re-wraps data keys after a master key rotation; old records still open', async () => {
    const { cipher, store, masterKey, options } = setup({ dataKeyMaxUses: 2 });
    const sealed = await Promise.all([1, 2, 3, 4, 5].map((i) => cipher.seal(`v${i}`, aadOf(i))));
    expect(store.size).toBe(3);

    const newMasterKey = randomBytes(32);
    const rotated = new LocalKms({
      masterKey: newMasterKey,
      keyId: 'master-v2',
      previousKeys: [{ keyId: 'master-v1', masterKey }],
    });
    const onlyNewKey = new LocalKms({ masterKey: newMasterKey, keyId: 'master-v2' });
    // before the re-wrap, the new key alone cannot open the data keys
    expect(
      await cryptoErrorCode(new EnvelopeCipher(onlyNewKey, store, options).open(sealed[0]!, aadOf(1))),
    ).toBe('kms_unwrap_failed');

    expect(await new EnvelopeCipher(rotated, store, options).rewrapDataKeys()).toBe(3);
    expect((await store.listAll()).every((r) => r.kmsKeyId === 'master-v2')).toBe(true);

    const afterRotation = new EnvelopeCipher(onlyNewKey, store, options);
    for (const [i, s] of sealed.entries())
      expect(await afterRotation.open(s, aadOf(i + 1))).toBe(`v${i + 1}`);
  });

  it('stops sealing under a key retired by another process within activeKeyRecheckMs', async () => {
    const { cipher, store, advance } = setup({ activeKeyRecheckMs: 5_000 });
    const first = cipher.dataKeyIdOf(await cipher.seal('a', aadOf(1)));
    store.retire(first);
    advance(4_000);
    expect(cipher.dataKeyIdOf(await cipher.seal('b', aadOf(2)))).toBe(first); // not re-checked yet
    advance(1_000);
    const next = cipher.dataKeyIdOf(await cipher.seal('c', aadOf(3)));
    expect(next).not.toBe(first);
    expect(cipher.dataKeyIdOf(await cipher.seal('d', aadOf(4)))).toBe(next);
    expect(await cipher.open(await cipher.seal('e', aadOf(5)), aadOf(5))).toBe('e');
  });

  it('keeps its key and its use count when the re-check finds it still current', async () => {
    const { cipher, store, advance } = setup({ activeKeyRecheckMs: 1_000, dataKeyMaxUses: 3 });
    const first = cipher.dataKeyIdOf(await cipher.seal('a', aadOf(1)));
    advance(2_000);
    expect(cipher.dataKeyIdOf(await cipher.seal('b', aadOf(2)))).toBe(first);
    expect(cipher.dataKeyIdOf(await cipher.seal('c', aadOf(3)))).toBe(first);
    expect(cipher.dataKeyIdOf(await cipher.seal('d', aadOf(4)))).not.toBe(first); // 3 uses, not reset
    expect(store.size).toBe(2);
  });

  it('stopSealingWith drops the key at once in this process; it still opens', async () => {
    const { cipher, store } = setup();
    const sealed = await cipher.seal('a', aadOf(1));
    const first = cipher.dataKeyIdOf(sealed);
    store.retire(first);
    cipher.stopSealingWith(first);
    expect(cipher.dataKeyIdOf(await cipher.seal('b', aadOf(2)))).not.toBe(first);
    expect(await cipher.open(sealed, aadOf(1))).toBe('a');
  });

  it('names the KMS key that new wraps go under', async () => {
    const { cipher } = setup();
    expect(await cipher.currentKmsKeyId()).toBe('master-v1');
  });

  it('does not cache a failed key creation: the next seal retries', async () => {
    const { kms, cipher, store } = setup();
    const spy = jest
      .spyOn(kms, 'generateDataKey')
      .mockRejectedValueOnce(new CryptoError('kms_unavailable', 'down'));
    const results = await Promise.allSettled([cipher.seal('a', aadOf(1)), cipher.seal('b', aadOf(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await cipher.open(await cipher.seal('c', aadOf(3)), aadOf(3))).toBe('c');
    expect(store.size).toBe(1);
  });

  it('pings the KMS and validates options', async () => {
    const { cipher, kms, store } = setup();
    await expect(cipher.ping()).resolves.toBeUndefined();
    expect(
      () =>
        new EnvelopeCipher(kms, store, {
          dataKeyMaxAgeMs: 1,
          dataKeyMaxUses: 0,
          cacheMaxEntries: 1,
          cacheMaxAgeMs: 1,
        }),
    ).toThrow(RangeError);
  });
});
