import type { RefreshRequest, RefreshResult } from '@vault/providers';
import type { TokenPeer } from './refresh-fixtures';

/** A provider adapter's refresh request against a test peer (oidc-provider or an emulator). */
export function refreshRequest(
  peer: TokenPeer,
  refreshToken: string,
  timeoutMs: number,
  over: Partial<RefreshRequest> = {},
): RefreshRequest {
  return {
    endpoints: { tokenUrl: peer.tokenUrl, revokeUrl: peer.revokeUrl },
    clientId: peer.clientId,
    clientSecret: peer.clientSecret,
    clientAuth: 'client_secret_post',
    refreshToken,
    timeoutMs,
    ...over,
  };
}

/** The tokens of a successful refresh; a failure fails the test with its details. */
export function tokensOf(result: RefreshResult) {
  if (!result.ok) throw new Error(`refresh failed: ${JSON.stringify(result.failure)}`);
  return result.tokens;
}
