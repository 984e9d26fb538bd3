import {
  AwsKms,
  CryptoError,
  EnvelopeCipher,
  dataKeyContext,
  type CryptoMetrics,
  type EnvelopeOptions,
} from '@vault/crypto';
import { MemoryDataKeyStore, cryptoErrorCode } from '@vault/crypto/testing';
import { startKmsEmulator, type KmsEmulator } from '../utils/kms-emulator';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'dummy-secret' };
const options: EnvelopeOptions = {
  dataKeyMaxAgeMs: 86_400_000,
  dataKeyMaxUses: 1_000,
  cacheMaxEntries: 100,
  cacheMaxAgeMs: 3_600_000,
};
const aadOf = (i: number) =>
  `connection:00000000-0000-4000-8000-${String(i).padStart(12, '0')}:refresh_token`;

describe('AwsKms through the real SDK client against a KMS emulator', () => {
  let emulator: KmsEmulator;
  const drivers: AwsKms[] = [];

  const driver = (extra: Partial<ConstructorParameters<typeof AwsKms>[0]> = {}) => {
    const kms = new AwsKms({
      keyId: emulator.alias,
      region: emulator.region,
      endpoint: emulator.endpoint,
      credentials,
      requestTimeoutMs: 2_000,
      ...extra,
    });
    drivers.push(kms);
    return kms;
  };

  beforeEach(async () => {
    emulator = await startKmsEmulator();
  });

  afterEach(async () => {
    for (const kms of drivers.splice(0)) kms.destroy();
    await emulator.close();
  });

  it('generates, decrypts and encrypts data keys with the encryption context', async () => {
    const kms = driver();
    const context = dataKeyContext('5f0c2a7e-3b1d-4c8e-9f6a-7b2c1d0e9f8a');
    const { plaintext, wrapped, kmsKeyId } = await kms.generateDataKey(context);
    expect(plaintext.length).toBe(32);
    expect(kmsKeyId).toBe(emulator.keyIds[0]);
    expect((await kms.decrypt(wrapped, context, kmsKeyId)).equals(plaintext)).toBe(true);

    const again = await kms.encrypt(plaintext, context);
    expect((await kms.decrypt(again.wrapped, context, again.kmsKeyId)).equals(plaintext)).toBe(true);
    await expect(kms.ping()).resolves.toBeUndefined();
    expect(emulator.calls).toEqual({ GenerateDataKey: 1, Decrypt: 2, Encrypt: 1, DescribeKey: 1 });
  });

  it('maps a different context, a corrupt blob and a wrong key id to kms_unwrap_failed', async () => {
    const kms = driver();
    const context = dataKeyContext('5f0c2a7e-3b1d-4c8e-9f6a-7b2c1d0e9f8a');
    const { wrapped, kmsKeyId } = await kms.generateDataKey(context);
    const other = dataKeyContext('00000000-0000-4000-8000-000000000000');
    const error = await kms.decrypt(wrapped, other, kmsKeyId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptoError);
    expect(error).toMatchObject({ code: 'kms_unwrap_failed' });
    expect((error as Error).message).toContain('InvalidCiphertextException');

    const corrupt = Buffer.from(wrapped);
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 1;
    expect(await cryptoErrorCode(kms.decrypt(corrupt, context, kmsKeyId))).toBe('kms_unwrap_failed');

    const otherKey = emulator.rotate();
    expect(await cryptoErrorCode(kms.decrypt(wrapped, context, otherKey))).toBe('kms_unwrap_failed'); // IncorrectKeyException
  });

  it('envelope: KMS calls grow with data keys, not with opens', async () => {
    const store = new MemoryDataKeyStore();
    const kmsCalls: string[] = [];
    const metrics: CryptoMetrics = {
      kmsRequest: (op, outcome) => kmsCalls.push(`${op}:${outcome}`),
      dataKeyCache: () => undefined,
    };
    const writer = new EnvelopeCipher(driver({ metrics }), store, options);
    const sealed = await Promise.all(
      Array.from({ length: 30 }, (_, i) => writer.seal(`token-${i}`, aadOf(i))),
    );
    expect(emulator.calls).toEqual({ GenerateDataKey: 1 });

    const reader = new EnvelopeCipher(driver({ metrics }), store, options);
    const opened = await Promise.all(sealed.map((s, i) => reader.open(s, aadOf(i))));
    for (const [i, s] of sealed.entries()) expect(await reader.open(s, aadOf(i))).toBe(`token-${i}`);
    expect(opened).toEqual(sealed.map((_, i) => `token-${i}`));
    expect(emulator.calls).toEqual({ GenerateDataKey: 1, Decrypt: 1 });
    expect(kmsCalls).toEqual(['GenerateDataKey:success', 'Decrypt:success']);
  });

  it('re-wraps data keys after the KMS key rotates; old records still open', async () => {
    const store = new MemoryDataKeyStore();
    const writer = new EnvelopeCipher(driver(), store, { ...options, dataKeyMaxUses: 2 });
    const sealed = await Promise.all([1, 2, 3, 4].map((i) => writer.seal(`v${i}`, aadOf(i))));
    expect((await store.listAll()).map((r) => r.kmsKeyId)).toEqual([emulator.keyIds[0], emulator.keyIds[0]]);

    const newKey = emulator.rotate();
    expect(await writer.rewrapDataKeys()).toBe(2);
    expect((await store.listAll()).every((r) => r.kmsKeyId === newKey)).toBe(true);
    expect(emulator.calls.Encrypt).toBe(2);

    // a fresh process decrypts with KeyId = the recorded (new) key: the emulator rejects a mismatched key id
    const reader = new EnvelopeCipher(driver(), store, options);
    for (const [i, s] of sealed.entries()) expect(await reader.open(s, aadOf(i + 1))).toBe(`v${i + 1}`);
    // new data keys are generated under the key the alias now points at
    const newStore = new MemoryDataKeyStore();
    await new EnvelopeCipher(driver(), newStore, options).seal('n', aadOf(9));
    expect((await newStore.listAll()).map((r) => r.kmsKeyId)).toEqual([newKey]);
    expect(emulator.calls.GenerateDataKey).toBe(3);
  });

  it('maps an unreachable endpoint and a timeout to kms_unavailable', async () => {
    const slow = driver({ requestTimeoutMs: 200, maxAttempts: 1 });
    emulator.setLatencyMs(2_000);
    const started = Date.now();
    expect(await cryptoErrorCode(slow.ping())).toBe('kms_unavailable');
    expect(Date.now() - started).toBeLessThan(1_500);

    const kms = driver({ maxAttempts: 1 });
    emulator.setLatencyMs(0);
    await emulator.close();
    expect(await cryptoErrorCode(kms.ping())).toBe('kms_unavailable');
    expect(
      await cryptoErrorCode(kms.generateDataKey(dataKeyContext('5f0c2a7e-3b1d-4c8e-9f6a-7b2c1d0e9f8a'))),
    ).toBe('kms_unavailable');
    emulator = await startKmsEmulator(); // for afterEach
  });
});
