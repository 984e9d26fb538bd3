import type { EnvelopeCipher } from '@vault/crypto';
import type { ConnectionsRepository, TenantScope, TokenRow } from '@vault/persistence';
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';

export interface AccessToken {
  connectionId: string;
  accessToken: string;
  tokenType: string;
  expiresAt: Date;
  scopes: string[];
}

/**
 * What the read path calls when the stored token is not valid for the caller's margin: join or start a
 * refresh and answer the row as it stands afterwards. Provided by the refresh engine.
 */
export interface OnDemandRefresher {
  refreshForRead(connectionId: string, minTtlSeconds: number): Promise<TokenRow>;
}
export const ON_DEMAND_REFRESHER = Symbol('ON_DEMAND_REFRESHER');

/**
 * The hot path: one primary-key read and one AES-GCM open with a cached data key; no KMS call, no lock, no
 * write and no Redis round trip while the stored token is valid for `minTtlSeconds`.
 */
export class TokenService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly cipher: EnvelopeCipher,
    private readonly refresher: OnDemandRefresher,
  ) {}

  async getToken(scope: TenantScope, id: string, minTtlSeconds: number): Promise<AccessToken> {
    let row = await this.connections.findTokenRow(id);
    if (!row || (scope.tenantId !== null && row.tenantId !== scope.tenantId))
      throw VaultError.notFound('connection');
    if (!isFresh(row, minTtlSeconds)) {
      assertServable(row);
      row = await this.refresher.refreshForRead(id, minTtlSeconds);
    }
    assertServable(row);
    if (!isFresh(row, minTtlSeconds) || !row.accessTokenSealed || !row.accessTokenExpiresAt) {
      throw new VaultError('provider_unavailable', 'no access token valid for min_ttl is available now', {
        retry_after: 5,
      });
    }
    const field = aad.connection(row.id, 'access_token');
    const accessToken =
      this.cipher.openCached(row.accessTokenSealed, field) ??
      (await this.cipher.open(row.accessTokenSealed, field));
    return {
      connectionId: row.id,
      accessToken,
      tokenType: row.tokenType,
      expiresAt: row.accessTokenExpiresAt,
      scopes: row.scopes,
    };
  }
}

export function isFresh(row: TokenRow, minTtlSeconds: number, now = Date.now()): boolean {
  return (
    (row.status === 'active' || row.status === 'refresh_failing') &&
    row.accessTokenSealed !== null &&
    row.accessTokenExpiresAt !== null &&
    row.accessTokenExpiresAt.getTime() - now >= minTtlSeconds * 1000
  );
}

function assertServable(row: TokenRow): void {
  if (row.status === 'revoked') {
    // Revoked on purpose (POST .../revoke): its secrets are gone; only a re-consent brings it back.
    throw new VaultError('connection_revoked', 'the connection was revoked; it holds no token', {
      reason: 'revoked',
    });
  }
  if (row.status === 'needs_reauth') {
    throw new VaultError('reauth_required', 'the connection needs the end user to consent again', {
      reason: row.statusReason ?? row.status,
    });
  }
}
