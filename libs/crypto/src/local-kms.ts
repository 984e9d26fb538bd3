import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { CryptoError } from './errors';
import {
  DATA_KEY_BYTES,
  type CryptoMetrics,
  type KmsContext,
  type KmsDriver,
  type KmsOperation,
} from './types';

/**
 * Wrapped blob, version 1:
 *   [0] version (1) | [1] key id length n | [2..2+n) key id (utf8) | nonce (12) | ciphertext | tag (16)
 * GCM associated data = blob header (version, length, key id) || canonical encryption context.
 */
const BLOB_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface LocalKmsOptions {
  /** Current master key (32 bytes). */
  masterKey: Buffer;
  /** Id of the current master key; defaults to an id derived (one-way) from the key. */
  keyId?: string;
  /** Older master keys that still unwrap blobs wrapped before a rotation. */
  previousKeys?: { keyId: string; masterKey: Buffer }[];
  metrics?: CryptoMetrics;
}

/** KMS driver backed by a local master key, for development and tests. */
export class LocalKms implements KmsDriver {
  readonly name = 'local' as const;
  readonly keyId: string;
  private readonly keys = new Map<string, Buffer>();
  private readonly metrics: CryptoMetrics | undefined;

  constructor(opts: LocalKmsOptions) {
    this.keyId = opts.keyId ?? LocalKms.deriveKeyId(opts.masterKey);
    this.metrics = opts.metrics;
    for (const { keyId, masterKey } of [
      { keyId: this.keyId, masterKey: opts.masterKey },
      ...(opts.previousKeys ?? []),
    ]) {
      if (masterKey.length !== 32) throw new RangeError('LocalKms master keys must be 32 bytes');
      if (Buffer.byteLength(keyId, 'utf8') > 255)
        throw new RangeError('LocalKms key ids must be at most 255 bytes');
      if (!this.keys.has(keyId)) this.keys.set(keyId, Buffer.from(masterKey));
    }
  }

  /** Default key id: a non-reversible tag of the master key, so different keys get different ids. */
  static deriveKeyId(masterKey: Buffer): string {
    return `local:${createHash('sha256').update('vault-local-kms-key-id').update(masterKey).digest('hex').slice(0, 16)}`;
  }

  generateDataKey(context: KmsContext): Promise<{ plaintext: Buffer; wrapped: Buffer; kmsKeyId: string }> {
    return this.run('GenerateDataKey', () => {
      const plaintext = randomBytes(DATA_KEY_BYTES);
      return { plaintext, wrapped: this.wrap(plaintext, context), kmsKeyId: this.keyId };
    });
  }

  encrypt(plaintext: Buffer, context: KmsContext): Promise<{ wrapped: Buffer; kmsKeyId: string }> {
    return this.run('Encrypt', () => ({ wrapped: this.wrap(plaintext, context), kmsKeyId: this.keyId }));
  }

  decrypt(wrapped: Buffer, context: KmsContext, kmsKeyId: string): Promise<Buffer> {
    return this.run('Decrypt', () => this.unwrap(wrapped, context, kmsKeyId));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  private wrap(plaintext: Buffer, context: KmsContext): Buffer {
    const master = this.keys.get(this.keyId);
    if (!master) throw new Error('LocalKms current key missing'); // unreachable: set in the constructor
    const keyId = Buffer.from(this.keyId, 'utf8');
    const header = Buffer.concat([Buffer.of(BLOB_VERSION, keyId.length), keyId]);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', master, nonce);
    cipher.setAAD(Buffer.concat([header, encodeContext(context)]));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, nonce, ciphertext, cipher.getAuthTag()]);
  }

  private unwrap(wrapped: Buffer, context: KmsContext, expectedKeyId: string): Buffer {
    const fail = (why: string) =>
      new CryptoError('kms_unwrap_failed', `LocalKms cannot unwrap data key: ${why}`);
    if (wrapped[0] !== BLOB_VERSION) throw fail('unknown wrapped key format');
    const idLength = wrapped[1] ?? 0;
    const headerLength = 2 + idLength;
    if (wrapped.length < headerLength + NONCE_BYTES + TAG_BYTES) throw fail('wrapped key is too short');
    const keyId = wrapped.subarray(2, headerLength).toString('utf8');
    if (keyId !== expectedKeyId) throw fail('wrapped by a different master key than the one recorded');
    const master = this.keys.get(keyId);
    if (!master) throw fail(`master key ${keyId} is not configured`);
    const nonce = wrapped.subarray(headerLength, headerLength + NONCE_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', master, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.concat([wrapped.subarray(0, headerLength), encodeContext(context)]));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(wrapped.subarray(headerLength + NONCE_BYTES, wrapped.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw fail('wrong master key or encryption context');
    }
  }

  private run<T>(operation: KmsOperation, fn: () => T): Promise<T> {
    return new Promise<T>((resolve) => resolve(fn())).then(
      (result) => {
        this.metrics?.kmsRequest(operation, 'success');
        return result;
      },
      (error: unknown) => {
        this.metrics?.kmsRequest(operation, 'error');
        throw error;
      },
    );
  }
}

/** Canonical, unambiguous encoding of an encryption context (sorted keys). */
export function encodeContext(context: KmsContext): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}
