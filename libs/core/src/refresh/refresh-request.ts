import { randomUUID } from 'node:crypto';
import { fingerprint, type EnvelopeCipher } from '@vault/crypto';
import type { RefreshRow, RefreshTrigger } from '@vault/persistence';
import {
  CATALOGUE,
  resolveEndpoints,
  type ClientAuthMethod,
  type ProviderEndpoints,
  type ProviderName,
  type ProviderRegistry,
} from '@vault/providers';
import { aad } from '../crypto/aad';
import type { PlannedCall } from './refresh.types';

/** The integration fields every call to a provider's endpoints needs (refresh and revocation alike). */
export interface IntegrationClient {
  provider: string;
  clientId: string;
  clientAuth: string;
  tokenUrl: string | null;
  authorizeUrl: string | null;
  revokeUrl: string | null;
}

/** Endpoints (the integration's overrides over the catalogue) and client credentials of one integration. */
export function providerClient(
  integration: IntegrationClient,
  clientSecret: string,
): {
  endpoints: ProviderEndpoints;
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
} {
  return {
    endpoints: resolveEndpoints(CATALOGUE[integration.provider as ProviderName], {
      tokenUrl: integration.tokenUrl,
      authorizeUrl: integration.authorizeUrl,
      revokeUrl: integration.revokeUrl,
    }),
    clientId: integration.clientId,
    clientSecret,
    clientAuth: integration.clientAuth as ClientAuthMethod,
  };
}

/**
 * Opens the client secret and the refresh token of a row read under the lock and builds the provider call:
 * the request, the adapter, and the journal entry recorded before the call (with the refresh token's
 * fingerprint, never the token). During a client secret rotation's overlap, also the request with the
 * previous secret.
 */
export async function buildRefreshCall(
  row: RefreshRow,
  trigger: RefreshTrigger,
  timeoutMs: number,
  cipher: Pick<EnvelopeCipher, 'open'>,
  providers: Pick<ProviderRegistry, 'get'>,
  newId: () => string = randomUUID,
  now: () => number = Date.now,
): Promise<PlannedCall> {
  const integration = row.integration;
  const provider = integration.provider as ProviderName;
  const clientSecret = await cipher.open(integration.clientSecretSealed, aad.integration(integration.id));
  const refreshToken = await cipher.open(row.refreshTokenSealed, aad.connection(row.id, 'refresh_token'));
  const request = { ...providerClient(integration, clientSecret), refreshToken, timeoutMs };
  const previous =
    integration.previousClientSecretSealed && (integration.previousSecretValidUntil?.getTime() ?? 0) > now()
      ? await cipher.open(integration.previousClientSecretSealed, aad.previousClientSecret(integration.id))
      : null;
  return {
    row,
    trigger,
    provider,
    entry: CATALOGUE[provider],
    adapter: providers.get(provider),
    refreshToken,
    attempt: {
      id: newId(),
      connectionId: row.id,
      trigger,
      connectionVersion: row.version,
      refreshTokenFingerprint: fingerprint(refreshToken),
    },
    request,
    previousSecretRequest: previous === null ? null : { ...request, clientSecret: previous },
  };
}
