import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CryptoError } from './errors';
import type { CryptoMetrics, KmsContext, KmsDriver, KmsOperation } from './types';

export interface AwsKmsOptions {
  /** Key id, key ARN, alias name or alias ARN of the master key used for new data keys. */
  keyId: string;
  region: string;
  /** Endpoint override (LocalStack, tests). */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Per-request timeout (connection + response), default 3000 ms. */
  requestTimeoutMs?: number;
  /** SDK attempts per call (retries included), default the SDK's (3). */
  maxAttempts?: number;
  metrics?: CryptoMetrics;
}

/** Errors meaning "this ciphertext/context/key cannot be unwrapped by us", not "KMS is down". */
const UNWRAP_ERRORS = new Set([
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'AccessDeniedException',
  'AccessDenied',
]);

/** KMS driver over AWS KMS (or a KMS-compatible endpoint), binding an encryption context to every call. */
export class AwsKms implements KmsDriver {
  readonly name = 'aws' as const;
  private readonly client: KMSClient;
  private readonly keyId: string;
  private readonly metrics: CryptoMetrics | undefined;

  constructor(opts: AwsKmsOptions) {
    const timeout = opts.requestTimeoutMs ?? 3000;
    this.keyId = opts.keyId;
    this.metrics = opts.metrics;
    this.client = new KMSClient({
      region: opts.region,
      ...(opts.endpoint !== undefined && { endpoint: opts.endpoint }),
      ...(opts.credentials !== undefined && { credentials: opts.credentials }),
      ...(opts.maxAttempts !== undefined && { maxAttempts: opts.maxAttempts }),
      requestHandler: new NodeHttpHandler({
        connectionTimeout: timeout,
        requestTimeout: timeout,
        throwOnRequestTimeout: true,
      }),
    });
  }

  async generateDataKey(
    context: KmsContext,
  ): Promise<{ plaintext: Buffer; wrapped: Buffer; kmsKeyId: string }> {
    const out = await this.call('GenerateDataKey', () =>
      this.client.send(
        new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
      ),
    );
    if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId) throw incomplete('GenerateDataKey');
    return {
      plaintext: Buffer.from(out.Plaintext),
      wrapped: Buffer.from(out.CiphertextBlob),
      kmsKeyId: out.KeyId,
    };
  }

  async decrypt(wrapped: Buffer, context: KmsContext, kmsKeyId: string): Promise<Buffer> {
    const out = await this.call('Decrypt', () =>
      this.client.send(
        new DecryptCommand({ CiphertextBlob: wrapped, KeyId: kmsKeyId, EncryptionContext: context }),
      ),
    );
    if (!out.Plaintext) throw incomplete('Decrypt');
    return Buffer.from(out.Plaintext);
  }

  async encrypt(plaintext: Buffer, context: KmsContext): Promise<{ wrapped: Buffer; kmsKeyId: string }> {
    const out = await this.call('Encrypt', () =>
      this.client.send(
        new EncryptCommand({ KeyId: this.keyId, Plaintext: plaintext, EncryptionContext: context }),
      ),
    );
    if (!out.CiphertextBlob || !out.KeyId) throw incomplete('Encrypt');
    return { wrapped: Buffer.from(out.CiphertextBlob), kmsKeyId: out.KeyId };
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new DescribeKeyCommand({ KeyId: this.keyId }));
    } catch (error) {
      throw mapError('DescribeKey', error);
    }
  }

  /** Releases the SDK's sockets. */
  destroy(): void {
    this.client.destroy();
  }

  private async call<T>(operation: KmsOperation, send: () => Promise<T>): Promise<T> {
    try {
      const out = await send();
      this.metrics?.kmsRequest(operation, 'success');
      return out;
    } catch (error) {
      this.metrics?.kmsRequest(operation, 'error');
      throw mapError(operation, error);
    }
  }
}

/** Maps an SDK/network error to a CryptoError carrying only the error name (never request or key data). */
function mapError(operation: string, error: unknown): CryptoError {
  const name = error instanceof Error ? error.name : 'UnknownError';
  const code = (error as { code?: unknown } | null)?.code;
  const detail = typeof code === 'string' && code !== name ? `${name} (${code})` : name;
  if (UNWRAP_ERRORS.has(name)) {
    return new CryptoError('kms_unwrap_failed', `KMS ${operation} refused: ${detail}`);
  }
  return new CryptoError('kms_unavailable', `KMS ${operation} failed: ${detail}`);
}

function incomplete(operation: string): CryptoError {
  return new CryptoError('kms_unavailable', `KMS ${operation} returned an incomplete response`);
}
