import type { EnvelopeCipher } from '@vault/crypto';
import { CATALOGUE, type ProviderName, type ProviderRegistry } from '@vault/providers';
import { aad } from '../crypto/aad';
import type { IntegrationsService } from '../integrations/integrations.service';
import { providerClient } from '../refresh/refresh-request';

export type ProviderRevocation = 'revoked' | 'not_supported' | 'failed';

/** What the provider said to a revocation; a failure only by its shape (class, code, status), never its text. */
export interface RevocationOutcome {
  providerRevocation: ProviderRevocation;
  failure?: { class: string; code: string; http_status: number | null };
}

/**
 * Revokes a connection's refresh token at the provider where it has a revocation endpoint (RFC 7009, or the
 * provider's own call behind its adapter). Best effort: never throws for the provider's or the network's
 * failures, which come back as `failed` with their shape, so the caller wipes the secrets either way.
 */
export async function revokeAtProvider(
  deps: { integrations: IntegrationsService; providers: ProviderRegistry; cipher: EnvelopeCipher },
  connectionId: string,
  integrationId: string,
  sealedRefreshToken: Buffer,
): Promise<RevocationOutcome> {
  const { integration, clientSecret } = await deps.integrations.credentials(integrationId);
  const provider = integration.provider as ProviderName;
  const adapter = deps.providers.get(provider);
  const revokeUrl = integration.revokeUrl ?? CATALOGUE[provider].revokeUrl;
  if (!adapter.revoke || !revokeUrl) return { providerRevocation: 'not_supported' };
  const client = providerClient(integration, clientSecret);
  const token = await deps.cipher.open(sealedRefreshToken, aad.connection(connectionId, 'refresh_token'));
  try {
    const res = await adapter.revoke({
      ...client,
      token,
      tokenTypeHint: 'refresh_token',
      timeoutMs: Math.min(integration.requestTimeoutMs ?? 10_000, 10_000),
    });
    if (res.ok) return { providerRevocation: 'revoked' };
    const f = res.failure;
    return {
      providerRevocation: 'failed',
      failure: f
        ? { class: f.class, code: f.code, http_status: f.httpStatus }
        : { class: 'provider_error', code: 'unknown', http_status: null },
    };
  } catch {
    return {
      providerRevocation: 'failed',
      failure: { class: 'transient', code: 'request_failed', http_status: null },
    };
  }
}
