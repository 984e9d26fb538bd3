import type { ApiKeyScope, TenantScope } from '@vault/persistence';
import { VaultError } from '../errors/vault-error';

/** The authenticated caller: an API key's identity, scopes and optional tenant. */
export interface Principal extends TenantScope {
  readonly keyId: string;
  readonly scopes: readonly ApiKeyScope[];
}

/** What a key limited to one tenant may hold. `admin` and `integrations:write` are platform powers. */
export const TENANT_SCOPES: readonly ApiKeyScope[] = Object.freeze([
  'tokens:read',
  'connections:read',
  'connections:write',
]);

/**
 * Whether the caller holds `scope`. A platform key's `admin` implies every scope. A tenant key holds only the
 * tenant scopes it lists, whatever else its row says: even a stored row with a tenant and `admin` (written by
 * an earlier version, or by hand) never acts platform-wide.
 */
export function hasScope(principal: Principal, scope: ApiKeyScope): boolean {
  if (principal.tenantId !== null) return TENANT_SCOPES.includes(scope) && principal.scopes.includes(scope);
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

/** The rule every way of making a key goes through (API, CLI, bootstrap): 400 naming `scopes` otherwise. */
export function assertScopesAllowed(scopes: readonly ApiKeyScope[], tenantId: string | null): void {
  if (tenantId === null) return;
  const platform = scopes.filter((s) => !TENANT_SCOPES.includes(s));
  if (platform.length > 0) {
    throw VaultError.validation(
      'scopes',
      `a key limited to a tenant may hold only ${TENANT_SCOPES.join(', ')}; ${platform.join(', ')} ` +
        `${platform.length > 1 ? 'are platform powers' : 'is a platform power'}`,
    );
  }
}
