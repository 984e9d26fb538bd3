import { type ApiKeyScope, type ApiKeysService, type Principal, VaultError, hasScope } from '@vault/core';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The key of an `Authorization: Bearer <key>` header, or null. */
export function bearerKey(header: string | string[] | undefined): string | null {
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  return match?.[1] ?? null;
}

/**
 * The caller of a request from its `Authorization` header, holding `scope`; a 401 or 403 VaultError otherwise.
 * Shared by the global guard (Nest routes) and the token route (served by Fastify directly).
 */
export async function authenticateBearer(
  apiKeys: ApiKeysService,
  header: string | string[] | undefined,
  scope: ApiKeyScope,
): Promise<Principal> {
  const key = bearerKey(header);
  if (!key) throw new VaultError('unauthorized', 'send an API key as Authorization: Bearer <key>');
  const principal = await apiKeys.authenticate(key);
  if (!principal) throw new VaultError('unauthorized', 'the API key is not valid');
  if (!hasScope(principal, scope)) {
    throw new VaultError('forbidden', `this API key lacks the scope ${scope}`, { required_scope: scope });
  }
  return principal;
}
