import type { EnvelopeCipher } from '@vault/crypto';
import type { ConnectionsRepository, TenantScope, TokenRow } from '@vault/persistence';
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';
import { isFresh } from './freshness';
import type { TokenRowCache } from './token-row-cache';

export { isFresh } from './freshness';

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
 * The hot path: one primary-key read (or none, from the token cache) and one AES-GCM open with a cached data
 * key; no KMS call, no lock, no write and no Redis round trip while the token is valid for `minTtlSeconds`.
 * A cached row decides only a 200: when it is not valid for the caller's `min_ttl`, the stored row is read
 * and judged as without a cache (refresh, 409, 503).
 */
export class TokenService {
  private readonly loadRow = (id: string) => this.connections.findTokenRow(id);

  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly cipher: EnvelopeCipher,
    private readonly refresher: OnDemandRefresher,
    private readonly cache: TokenRowCache,
  ) {}

  /**
   * The answer from memory alone, synchronously: a cached row of the caller's tenant, servable and valid for
   * `minTtlSeconds`, opened with a cached data key. `null` whenever anything else would be needed (a read,
   * a refresh, a KMS call, an error): then `getToken` decides, as if this had not been asked.
   */
  cachedToken(scope: TenantScope, id: string, minTtlSeconds: number): AccessToken | null {
    const row = this.cache.peek(id);
    if (!row || !isFresh(row, minTtlSeconds) || !row.accessTokenSealed || !row.accessTokenExpiresAt)
      return null;
    if (!inScope(scope, row)) return null;
    let accessToken: string | undefined;
    try {
      accessToken = this.cipher.openCached(row.accessTokenSealed, aad.connection(row.id, 'access_token'));
    } catch {
      return null; // getToken opens it again and answers the failure
    }
    if (accessToken === undefined) return null;
    this.cache.answered();
    return answerOf(row, accessToken, row.accessTokenExpiresAt);
  }

  async getToken(scope: TenantScope, id: string, minTtlSeconds: number): Promise<AccessToken> {
    const first = await this.cache.read(id, this.loadRow);
    let row = first.row;
    if (first.cached && row && !isFresh(row, minTtlSeconds)) {
      // Judge by the stored row, as without a cache: it may have been refreshed meanwhile.
      this.cache.invalidate([id]);
      row = (await this.cache.read(id, this.loadRow)).row;
    }
    if (!row || !inScope(scope, row)) throw VaultError.notFound('connection');
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
    return answerOf(row, accessToken, row.accessTokenExpiresAt);
  }
}

/** A platform key sees every tenant; a tenant key only its own. */
function inScope(scope: TenantScope, row: TokenRow): boolean {
  return scope.tenantId === null || row.tenantId === scope.tenantId;
}

function answerOf(row: TokenRow, accessToken: string, expiresAt: Date): AccessToken {
  return { connectionId: row.id, accessToken, tokenType: row.tokenType, expiresAt, scopes: row.scopes };
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
