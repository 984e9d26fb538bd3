import type { TokenRow } from '@vault/persistence';
import { isFresh } from './token.service';

describe('isFresh', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const row = (over: Partial<TokenRow>): TokenRow => ({
    id: 'c',
    tenantId: 't',
    status: 'active',
    statusReason: null,
    accessTokenSealed: Buffer.from('x'),
    accessTokenExpiresAt: new Date(now + 120_000),
    tokenType: 'Bearer',
    scopes: [],
    ...over,
  });

  it('is fresh when the token outlives min_ttl', () => {
    expect(isFresh(row({}), 60, now)).toBe(true);
    expect(isFresh(row({}), 120, now)).toBe(true);
  });

  it('is not fresh when the token expires within min_ttl', () => {
    expect(isFresh(row({}), 121, now)).toBe(false);
  });

  it('is never fresh without a token, an expiry, or when re-consent is needed', () => {
    expect(isFresh(row({ accessTokenSealed: null }), 0, now)).toBe(false);
    expect(isFresh(row({ accessTokenExpiresAt: null }), 0, now)).toBe(false);
    expect(isFresh(row({ status: 'needs_reauth' }), 0, now)).toBe(false);
    expect(isFresh(row({ status: 'revoked' }), 0, now)).toBe(false);
  });
});
