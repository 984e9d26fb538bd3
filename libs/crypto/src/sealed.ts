import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { CryptoError } from './errors';
import { DATA_KEY_BYTES } from './types';

/**
 * Sealed format, version 1:
 *   [0]      format version (1)
 *   [1..17)  data key id (UUID, 16 bytes binary)
 *   [17..29) nonce (12 bytes)
 *   [29..-16) ciphertext
 *   [-16..)  GCM tag
 * GCM associated data = header (version + data key id) || utf8(caller aad).
 */
export const SEALED_FORMAT_VERSION = 1;
const HEADER_BYTES = 1 + 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MIN_SEALED_BYTES = HEADER_BYTES + NONCE_BYTES + TAG_BYTES;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidToBytes(id: string): Buffer {
  if (!UUID_RE.test(id)) throw new RangeError('data key id must be a UUID');
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

export function bytesToUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function assertKey(key: Buffer): void {
  if (key.length !== DATA_KEY_BYTES) throw new RangeError(`data key must be ${DATA_KEY_BYTES} bytes`);
}

function checkFormat(sealed: Buffer): void {
  if (sealed.length === 0) throw new CryptoError('malformed', 'sealed value is empty');
  const version = sealed[0];
  if (version !== SEALED_FORMAT_VERSION) {
    throw new CryptoError('unknown_format_version', `unknown sealed format version ${String(version)}`);
  }
  if (sealed.length < MIN_SEALED_BYTES) throw new CryptoError('malformed', 'sealed value is too short');
}

/** Data key id (UUID) from the header of a sealed value. */
export function dataKeyIdOf(sealed: Buffer): string {
  checkFormat(sealed);
  return bytesToUuid(sealed.subarray(1, HEADER_BYTES));
}

export function sealWithKey(key: Buffer, dataKeyId: string, plaintext: Buffer | string, aad: string): Buffer {
  assertKey(key);
  const header = Buffer.concat([Buffer.of(SEALED_FORMAT_VERSION), uuidToBytes(dataKeyId)]);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.concat([header, Buffer.from(aad, 'utf8')]));
  const body = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const ciphertext = Buffer.concat([cipher.update(body), cipher.final()]);
  return Buffer.concat([header, nonce, ciphertext, cipher.getAuthTag()]);
}

export function openWithKey(key: Buffer, sealed: Buffer, aad: string): Buffer {
  assertKey(key);
  checkFormat(sealed);
  const header = sealed.subarray(0, HEADER_BYTES);
  const nonce = sealed.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const ciphertext = sealed.subarray(HEADER_BYTES + NONCE_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.concat([header, Buffer.from(aad, 'utf8')]));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new CryptoError(
      'tampered',
      'sealed value failed authentication (tampered, wrong key, or associated data of another record/field)',
    );
  }
}

const FINGERPRINT_KEY = 'vault:secret-fingerprint:v1';

/** Short, non-reversible fingerprint (HMAC-SHA-256, 16 hex chars) to identify a secret in logs and journals. */
export function fingerprint(secret: string): string {
  return createHmac('sha256', FINGERPRINT_KEY).update(secret, 'utf8').digest('hex').slice(0, 16);
}
