import { API_KEY_LENGTH, generateApiKey, isWellFormedApiKey } from './key-format';

describe('API key format', () => {
  it('makes vk_ keys of 52 base62 characters that pass their own checksum, each one different', () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    expect(new Set(keys).size).toBe(200);
    for (const k of keys) {
      expect(k).toMatch(/^vk_[0-9A-Za-z]{49}$/);
      expect(k).toHaveLength(API_KEY_LENGTH);
      expect(isWellFormedApiKey(k)).toBe(true);
    }
  });

  it('refuses a key with any one character changed (the checksum catches it)', () => {
    const key = generateApiKey();
    for (let i = 3; i < key.length; i++) {
      const c = key[i] === 'a' ? 'b' : 'a';
      expect(isWellFormedApiKey(key.slice(0, i) + c + key.slice(i + 1))).toBe(false);
    }
  });

  it('refuses other shapes: keys of earlier versions, other prefixes, lengths and characters', () => {
    const key = generateApiKey();
    for (const bad of [
      '',
      'vk_',
      key.slice(0, -1),
      key + 'a',
      'xk_' + key.slice(3),
      key.slice(0, 10) + '-' + key.slice(11),
      `vk_${'A'.repeat(43)}`, // the earlier format: vk_ + 43 base64url characters
      'dev-admin-key-change-me-0001',
      key.toUpperCase() === key ? key.toLowerCase() : key.toUpperCase(),
    ]) {
      expect(isWellFormedApiKey(bad)).toBe(false);
    }
  });
});
