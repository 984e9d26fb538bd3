import type { ApiKeyScope } from '@vault/persistence';
import type { TenantScope } from '@vault/persistence';

/** The authenticated caller: an API key's identity, scopes and optional tenant. */
export interface Principal extends TenantScope {
  readonly keyId: string;
  readonly scopes: readonly ApiKeyScope[];
}

export function hasScope(principal: Principal, scope: ApiKeyScope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}
