import { VaultError } from '../errors/vault-error';
import { decodeCursor, encodeCursor } from './cursor';

describe('list cursor', () => {
  it('round-trips', () => {
    const c = { createdAt: '2026-03-04T05:06:07.089123Z', id: '0b7c6a0e-5f0f-4f62-9d57-1f3f0d1c2b3a' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
  });

  it.each([
    '',
    'garbage',
    Buffer.from('["x","y"]').toString('base64url'),
    Buffer.from('{}').toString('base64url'),
  ])('refuses %p with a validation error on the cursor field', (raw) => {
    try {
      decodeCursor(raw);
      throw new Error('decoded');
    } catch (e) {
      expect(e).toBeInstanceOf(VaultError);
      expect((e as VaultError).details).toEqual({ field: 'cursor' });
    }
  });
});
