export type KmsContext = Record<string, string>;

export interface KmsDriver {
  readonly name: 'local' | 'aws';
  /** Returns a fresh 32-byte data key, in plaintext and wrapped by the KMS master key. */
  generateDataKey(context: KmsContext): Promise<{ plaintext: Buffer; wrapped: Buffer; kmsKeyId: string }>;
  /** Unwraps a data key. Throws CryptoError('kms_unwrap_failed') on a wrong master key / context. */
  decrypt(wrapped: Buffer, context: KmsContext, kmsKeyId: string): Promise<Buffer>;
  /** Wraps an existing data key under the *current* master key (used to re-wrap after KMS key rotation). */
  encrypt(plaintext: Buffer, context: KmsContext): Promise<{ wrapped: Buffer; kmsKeyId: string }>;
  /** Cheap reachability check for readiness probes. */
  ping(): Promise<void>;
}

export interface DataKeyRecord {
  id: string;
  kmsKeyId: string;
  wrappedKey: Buffer;
  createdAt: Date;
  retiredAt: Date | null;
}

/** Persistence of wrapped data keys (implemented over PostgreSQL by the persistence lib). */
export interface DataKeyStore {
  /** Newest non-retired key. */
  findActive(): Promise<DataKeyRecord | null>;
  findById(id: string): Promise<DataKeyRecord | null>;
  insert(record: { id: string; kmsKeyId: string; wrappedKey: Buffer }): Promise<DataKeyRecord>;
  listAll(): Promise<DataKeyRecord[]>;
  updateWrapping(id: string, kmsKeyId: string, wrappedKey: Buffer): Promise<void>;
}

export type KmsOperation = 'GenerateDataKey' | 'Decrypt' | 'Encrypt';

/** Optional metrics hook. KMS drivers report `kmsRequest`; the envelope cipher reports `dataKeyCache`. */
export interface CryptoMetrics {
  kmsRequest(operation: KmsOperation, outcome: 'success' | 'error'): void;
  dataKeyCache(result: 'hit' | 'miss'): void;
}

export const DATA_KEY_BYTES = 32;

/** KMS encryption context bound to a data key. */
export function dataKeyContext(dataKeyId: string): KmsContext {
  return { purpose: 'vault-data-key', data_key_id: dataKeyId };
}
