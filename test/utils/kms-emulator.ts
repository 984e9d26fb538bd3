import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Minimal KMS-compatible endpoint (JSON 1.1 protocol, `X-Amz-Target: TrentService.<Op>`) for tests of the real
 * @aws-sdk/client-kms client. SigV4 is not checked. Supports GenerateDataKey, Decrypt, Encrypt, DescribeKey.
 *
 * Key semantics: every key has its own key id/ARN; the alias `alias` always points at the current key and
 * `rotate()` creates a new key and points the alias at it. Old keys keep decrypting what they wrapped
 * (ciphertext blobs name their key); Decrypt with a `KeyId` that is not the blob's key fails with
 * IncorrectKeyException, and with a different EncryptionContext with InvalidCiphertextException.
 */
export interface KmsEmulator {
  endpoint: string;
  region: string;
  /** Alias name (e.g. `alias/vault-test`) resolving to the current key. */
  alias: string;
  /** ARNs of every key, oldest first; the last one is current. */
  keyIds: string[];
  /** Adds a new key, points the alias at it and returns its ARN. */
  rotate(): string;
  /** Requests served, per operation name. */
  calls: Record<string, number>;
  /** Delays every response (to exercise client timeouts). */
  setLatencyMs(ms: number): void;
  /** While true, every request answers 500 KMSInternalException (a KMS outage); calls are still counted. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BLOB_MAGIC = 0x01;

class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startKmsEmulator(): Promise<KmsEmulator> {
  const keys = new Map<string, Buffer>(); // ARN -> key material
  const keyIds: string[] = [];
  const alias = 'alias/vault-test';
  const calls: Record<string, number> = {};
  let latencyMs = 0;
  let down = false;
  const timers = new Set<NodeJS.Timeout>();

  const addKey = (): string => {
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${randomUUID()}`;
    keys.set(arn, randomBytes(32));
    keyIds.push(arn);
    return arn;
  };
  addKey();

  const resolveKey = (keyId: unknown): string => {
    if (typeof keyId !== 'string' || keyId === '')
      throw new KmsFault('ValidationException', 'KeyId is required');
    if (keyId === alias || keyId === `arn:aws:kms:${REGION}:${ACCOUNT}:${alias}`)
      return keyIds[keyIds.length - 1]!;
    const arn = keyId.startsWith('arn:') ? keyId : `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;
    if (!keys.has(arn)) throw new KmsFault('NotFoundException', `Key '${keyId}' does not exist`);
    return arn;
  };

  const contextAad = (context: unknown): Buffer => {
    const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Buffer.from(JSON.stringify(entries), 'utf8');
  };

  const wrap = (arn: string, plaintext: Buffer, context: unknown): Buffer => {
    const id = Buffer.from(arn, 'utf8');
    const header = Buffer.concat([Buffer.of(BLOB_MAGIC, id.length), id]);
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keys.get(arn)!, nonce);
    cipher.setAAD(Buffer.concat([header, contextAad(context)]));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, nonce, ct, cipher.getAuthTag()]);
  };

  const unwrap = (blob: Buffer, context: unknown, keyId: unknown): { arn: string; plaintext: Buffer } => {
    const invalid = new KmsFault('InvalidCiphertextException', '');
    if (blob.length < 2 || blob[0] !== BLOB_MAGIC) throw invalid;
    const headerLength = 2 + blob[1]!;
    if (blob.length < headerLength + 12 + 16) throw invalid;
    const arn = blob.subarray(2, headerLength).toString('utf8');
    const material = keys.get(arn);
    if (!material) throw invalid;
    if (keyId !== undefined && resolveKey(keyId) !== arn) {
      throw new KmsFault(
        'IncorrectKeyException',
        'The key ID in the request does not identify the key used to encrypt',
      );
    }
    const decipher = createDecipheriv(
      'aes-256-gcm',
      material,
      blob.subarray(headerLength, headerLength + 12),
    );
    decipher.setAAD(Buffer.concat([blob.subarray(0, headerLength), contextAad(context)]));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    try {
      const body = blob.subarray(headerLength + 12, blob.length - 16);
      return { arn, plaintext: Buffer.concat([decipher.update(body), decipher.final()]) };
    } catch {
      throw invalid;
    }
  };

  const handlers: Record<string, (req: Record<string, unknown>) => unknown> = {
    GenerateDataKey: (req) => {
      const arn = resolveKey(req.KeyId);
      const bytes =
        req.KeySpec === 'AES_256' ? 32 : req.KeySpec === 'AES_128' ? 16 : Number(req.NumberOfBytes);
      if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
        throw new KmsFault('ValidationException', 'KeySpec or NumberOfBytes is required');
      }
      const plaintext = randomBytes(bytes);
      return {
        KeyId: arn,
        Plaintext: plaintext.toString('base64'),
        CiphertextBlob: wrap(arn, plaintext, req.EncryptionContext).toString('base64'),
      };
    },
    Encrypt: (req) => {
      const arn = resolveKey(req.KeyId);
      const plaintext = Buffer.from(String(req.Plaintext), 'base64');
      return {
        KeyId: arn,
        CiphertextBlob: wrap(arn, plaintext, req.EncryptionContext).toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    Decrypt: (req) => {
      const blob = Buffer.from(String(req.CiphertextBlob), 'base64');
      const { arn, plaintext } = unwrap(blob, req.EncryptionContext, req.KeyId);
      return {
        KeyId: arn,
        Plaintext: plaintext.toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    DescribeKey: (req) => {
      const arn = resolveKey(req.KeyId);
      return {
        KeyMetadata: {
          AWSAccountId: ACCOUNT,
          Arn: arn,
          KeyId: arn.slice(arn.lastIndexOf('/') + 1),
          Enabled: true,
          KeyState: 'Enabled',
          KeyUsage: 'ENCRYPT_DECRYPT',
          KeySpec: 'SYMMETRIC_DEFAULT',
          KeyManager: 'CUSTOMER',
          Origin: 'AWS_KMS',
          CreationDate: Math.floor(Date.now() / 1000),
        },
      };
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const json = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(json),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(json);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith('TrentService.') ? target.slice(13) : '';
    const handler = handlers[operation];
    if (req.method !== 'POST' || !handler) {
      send(res, 400, { __type: 'UnknownOperationException', message: `unsupported: ${String(target)}` });
      return;
    }
    calls[operation] = (calls[operation] ?? 0) + 1;
    if (down) {
      send(res, 500, { __type: 'KMSInternalException', message: 'service unavailable' });
      return;
    }
    try {
      const body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
      send(res, 200, handler(body));
    } catch (error) {
      if (error instanceof KmsFault) send(res, 400, { __type: error.type, message: error.message });
      else send(res, 500, { __type: 'KMSInternalException', message: 'internal error' });
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const respond = () => handle(req, res, Buffer.concat(chunks));
      if (latencyMs <= 0) return respond();
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond();
      }, latencyMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: REGION,
    alias,
    keyIds,
    rotate: addKey,
    calls,
    setLatencyMs: (ms) => {
      latencyMs = ms;
    },
    setDown: (value) => {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
