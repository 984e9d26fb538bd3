import { randomBytes } from 'node:crypto';
import { cryptoErrorCode } from '@vault/crypto/testing';
import { LocalKms } from './local-kms';
import { dataKeyContext, type CryptoMetrics } from './types';

const ctx = dataKeyContext('0b8f3c1e-2f4a-4d6b-9c8e-1a2b3c4d5e6f');

describe('LocalKms', () => {
  it('generates 32-byte data keys that unwrap under the same context', async () => {
    const kms = new LocalKms({ masterKey: randomBytes(32), keyId: 'local-1' });
    const { plaintext, wrapped, kmsKeyId } = await kms.generateDataKey(ctx);
    expect(plaintext.length).toBe(32);
    expect(kmsKeyId).toBe('local-1');
    expect(wrapped.includes(plaintext)).toBe(false);
    expect((await kms.decrypt(wrapped, ctx, kmsKeyId)).equals(plaintext)).toBe(true);
  });

  it('binds the encryption context', async () => {
    const kms = new LocalKms({ masterKey: randomBytes(32) });
    const { wrapped, kmsKeyId } = await kms.generateDataKey(ctx);
    const other = { ...ctx, data_key_id: '11111111-2222-4333-8444-555555555555' };
    expect(await cryptoErrorCode(kms.decrypt(wrapped, other, kmsKeyId))).toBe('kms_unwrap_failed');
    expect(await cryptoErrorCode(kms.decrypt(wrapped, { ...ctx, extra: 'x' }, kmsKeyId))).toBe(
      'kms_unwrap_failed',
    );
  });

  it('fails with kms_unwrap_failed under a wrong master key (same or derived key id) or a corrupt blob', async () => {
    const masterKey = randomBytes(32);
    const { wrapped, kmsKeyId } = await new LocalKms({ masterKey, keyId: 'k' }).generateDataKey(ctx);
    const wrongSameId = new LocalKms({ masterKey: randomBytes(32), keyId: 'k' });
    expect(await cryptoErrorCode(wrongSameId.decrypt(wrapped, ctx, kmsKeyId))).toBe('kms_unwrap_failed');

    const derived = await new LocalKms({ masterKey }).generateDataKey(ctx);
    const wrongDerived = new LocalKms({ masterKey: randomBytes(32) });
    expect(await cryptoErrorCode(wrongDerived.decrypt(derived.wrapped, ctx, derived.kmsKeyId))).toBe(
      'kms_unwrap_failed',
    );

    const corrupt = Buffer.from(wrapped);
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 1;
    expect(await cryptoErrorCode(new LocalKms({ masterKey, keyId: 'k' }).decrypt(corrupt, ctx, 'k'))).toBe(
      'kms_unwrap_failed',
    );
    expect(
      await cryptoErrorCode(new LocalKms({ masterKey, keyId: 'k' }).decrypt(Buffer.of(9), ctx, 'k')),
    ).toBe('kms_unwrap_failed');
  });

  it('after rotation wraps under the new key and still unwraps blobs of previous keys', async () => {
    const oldKey = randomBytes(32);
    const v1 = new LocalKms({ masterKey: oldKey, keyId: 'v1' });
    const old = await v1.generateDataKey(ctx);

    const v2 = new LocalKms({
      masterKey: randomBytes(32),
      keyId: 'v2',
      previousKeys: [{ keyId: 'v1', masterKey: oldKey }],
    });
    expect((await v2.decrypt(old.wrapped, ctx, 'v1')).equals(old.plaintext)).toBe(true);
    const rewrapped = await v2.encrypt(old.plaintext, ctx);
    expect(rewrapped.kmsKeyId).toBe('v2');
    expect((await v2.decrypt(rewrapped.wrapped, ctx, 'v2')).equals(old.plaintext)).toBe(true);
    // the old key alone cannot open the re-wrapped blob
    expect(await cryptoErrorCode(v1.decrypt(rewrapped.wrapped, ctx, 'v2'))).toBe('kms_unwrap_failed');
  });

  it('reports every call to metrics', async () => {
    const seen: string[] = [];
    const metrics: CryptoMetrics = {
      kmsRequest: (op, outcome) => seen.push(`${op}:${outcome}`),
      dataKeyCache: () => undefined,
    };
    const kms = new LocalKms({ masterKey: randomBytes(32), metrics });
    const { wrapped, kmsKeyId, plaintext } = await kms.generateDataKey(ctx);
    await kms.decrypt(wrapped, ctx, kmsKeyId);
    await kms.decrypt(wrapped, {}, kmsKeyId).catch(() => undefined);
    await kms.encrypt(plaintext, ctx);
    expect(seen).toEqual(['GenerateDataKey:success', 'Decrypt:success', 'Decrypt:error', 'Encrypt:success']);
  });

  it('refuses master keys that are not 32 bytes', () => {
    expect(() => new LocalKms({ masterKey: randomBytes(16) })).toThrow(RangeError);
  });
});
