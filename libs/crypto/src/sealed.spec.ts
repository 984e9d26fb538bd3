import { randomBytes, randomUUID } from 'node:crypto';
import { CryptoError } from './errors';
import { dataKeyIdOf, fingerprint, openWithKey, sealWithKey } from './sealed';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return (error as CryptoError).code;
  }
  throw new Error('expected a CryptoError');
}

describe('sealed format', () => {
  const key = randomBytes(32);
  const keyId = randomUUID();
  const aad = 'connection:4a0e1c55-8d3b-4f0e-9a57-0d6a3f5e2b10:refresh_token';
  const secret = 'rt-super-secret-refresh-token';

  it('round-trips and lays out version, key id, nonce, ciphertext and tag', () => {
    const sealed = sealWithKey(key, keyId, secret, aad);
    expect(sealed[0]).toBe(1);
    expect(sealed.length).toBe(1 + 16 + 12 + Buffer.byteLength(secret) + 16);
    expect(dataKeyIdOf(sealed)).toBe(keyId);
    expect(openWithKey(key, sealed, aad).toString('utf8')).toBe(secret);
    expect(sealed.includes(Buffer.from(secret))).toBe(false);
  });

  it('uses a fresh nonce for every seal', () => {
    const a = sealWithKey(key, keyId, secret, aad);
    const b = sealWithKey(key, keyId, secret, aad);
    expect(a.subarray(17, 29).equals(b.subarray(17, 29))).toBe(false);
  });

  it('seals empty plaintext and binary buffers', () => {
    expect(openWithKey(key, sealWithKey(key, keyId, '', aad), aad).length).toBe(0);
    const bytes = randomBytes(100);
    expect(openWithKey(key, sealWithKey(key, keyId, bytes, aad), aad).equals(bytes)).toBe(true);
  });

  it('rejects a tampered tag, ciphertext or nonce as tampered, without leaking the plaintext', () => {
    const sealed = sealWithKey(key, keyId, secret, aad);
    for (const index of [sealed.length - 1, 30, 17]) {
      const copy = Buffer.from(sealed);
      copy[index] = copy[index]! ^ 0x01;
      expect(codeOf(() => openWithKey(key, copy, aad))).toBe('tampered');
    }
    const copy = Buffer.from(sealed);
    copy[copy.length - 1] = copy[copy.length - 1]! ^ 0xff;
    try {
      openWithKey(key, copy, aad);
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
      expect((error as Error).message).not.toContain(key.toString('hex'));
      expect((error as Error).message).not.toContain(key.toString('base64'));
    }
  });

  it('authenticates the header: a rewritten data key id does not open', () => {
    const sealed = sealWithKey(key, keyId, secret, aad);
    const copy = Buffer.from(sealed);
    uuidBytes(randomUUID()).copy(copy, 1);
    expect(codeOf(() => openWithKey(key, copy, aad))).toBe('tampered');
  });

  it('does not open a ciphertext moved to another row or field (different aad)', () => {
    const sealed = sealWithKey(key, keyId, secret, aad);
    expect(codeOf(() => openWithKey(key, sealed, aad.replace('refresh_token', 'access_token')))).toBe(
      'tampered',
    );
    expect(codeOf(() => openWithKey(key, sealed, `connection:${randomUUID()}:refresh_token`))).toBe(
      'tampered',
    );
  });

  it('does not open under another data key', () => {
    const sealed = sealWithKey(key, keyId, secret, aad);
    expect(codeOf(() => openWithKey(randomBytes(32), sealed, aad))).toBe('tampered');
  });

  it('rejects an unknown format version and malformed input', () => {
    const sealed = sealWithKey(key, keyId, secret, aad);
    const v2 = Buffer.from(sealed);
    v2[0] = 2;
    expect(codeOf(() => openWithKey(key, v2, aad))).toBe('unknown_format_version');
    expect(codeOf(() => dataKeyIdOf(v2))).toBe('unknown_format_version');
    expect(codeOf(() => openWithKey(key, Buffer.alloc(0), aad))).toBe('malformed');
    expect(codeOf(() => openWithKey(key, sealed.subarray(0, 44), aad))).toBe('malformed');
    expect(codeOf(() => dataKeyIdOf(sealed.subarray(0, 10)))).toBe('malformed');
  });

  it('refuses keys that are not 32 bytes and data key ids that are not UUIDs', () => {
    expect(() => sealWithKey(randomBytes(16), keyId, secret, aad)).toThrow(RangeError);
    expect(() => sealWithKey(key, 'not-a-uuid', secret, aad)).toThrow(RangeError);
  });
});

describe('fingerprint', () => {
  it('is short, stable, distinct and does not reveal the secret', () => {
    const fp = fingerprint('refresh-token-1');
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint('refresh-token-1')).toBe(fp);
    expect(fingerprint('refresh-token-2')).not.toBe(fp);
    expect(fp).not.toContain('refresh');
  });
});

function uuidBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}
