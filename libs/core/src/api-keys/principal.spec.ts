import { API_KEY_SCOPES, type ApiKeyScope } from '@vault/persistence';
import { VaultError } from '../errors/vault-error';
import { assertScopesAllowed, hasScope, type Principal } from './principal';

const principal = (scopes: ApiKeyScope[], tenantId: string | null): Principal => ({
  keyId: 'k',
  scopes,
  tenantId,
});

describe('who may do what', () => {
  it('gives a platform admin every scope', () => {
    for (const s of API_KEY_SCOPES) expect(hasScope(principal(['admin'], null), s)).toBe(true);
  });

  it('never lets a tenant key hold a platform power, even when its row says admin', () => {
    const row = principal([...API_KEY_SCOPES], 'tenant-a');
    expect(hasScope(row, 'admin')).toBe(false);
    expect(hasScope(row, 'integrations:write')).toBe(false);
    expect(hasScope(row, 'tokens:read')).toBe(true);
    // admin implies nothing for a tenant key: only the tenant scopes it lists.
    expect(hasScope(principal(['admin'], 'tenant-a'), 'connections:read')).toBe(false);
  });

  it('refuses platform scopes for a tenant key with a validation error naming scopes', () => {
    for (const scope of ['admin', 'integrations:write'] as const) {
      let err: unknown;
      try {
        assertScopesAllowed(['tokens:read', scope], 'tenant-a');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VaultError);
      expect((err as VaultError).details).toEqual({ field: 'scopes' });
    }
    expect(() =>
      assertScopesAllowed(['tokens:read', 'connections:read', 'connections:write'], 't'),
    ).not.toThrow();
    expect(() => assertScopesAllowed([...API_KEY_SCOPES], null)).not.toThrow();
  });
});
