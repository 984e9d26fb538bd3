import { hash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Every key starts with this, so it is recognisable in a leak scanner and in a log line. */
export const API_KEY_PREFIX = 'vk_';
/** 43 base62 characters carry 256 bits (62^43 > 2^256). */
const RANDOM_LENGTH = 43;
/** The CRC32 of `vk_` + the random part, as 6 base62 characters (62^6 > 2^32). */
const CHECKSUM_LENGTH = 6;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
const SHAPE = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * A new API key: `vk_` + 43 random base62 characters (256 bits) + a 6-character CRC32 checksum, like GitHub's
 * token format. The checksum is not a secret and proves nothing about who made the key: it only lets the vault
 * refuse a value that cannot be one of its keys (a typo, a scan, a flood of made-up values) without a query.
 */
export function generateApiKey(): string {
  let body = API_KEY_PREFIX;
  for (let i = 0; i < RANDOM_LENGTH; i++) body += BASE62[randomInt(62)];
  return body + checksum(body);
}

/** True when `value` has the shape and checksum of a key made by `generateApiKey`. */
export function isWellFormedApiKey(value: string): boolean {
  if (value.length !== API_KEY_LENGTH || !SHAPE.test(value)) return false;
  const body = value.slice(0, -CHECKSUM_LENGTH);
  return checksum(body) === value.slice(-CHECKSUM_LENGTH);
}

/** SHA-256 of the whole key: what the database keeps (a fast hash is enough for 256-bit random keys). */
export function hashApiKey(key: string): Buffer {
  // One-shot hash: no Hash object per call (it runs on every authenticated request).
  return hash('sha256', key, 'buffer');
}
