import { randomUUID } from 'node:crypto';
import type { EnvelopeCipher } from '@vault/crypto';
import {
  ForeignKeyViolation,
  UniqueViolation,
  type ConnectionsRepository,
  type Database,
  type EventsRepository,
  type ConnectionEventEntity,
  type ConnectionStatus,
  type ConnectionView,
  type TenantScope,
} from '@vault/persistence';
import { CATALOGUE, type ProviderName, type ProviderRegistry } from '@vault/providers';
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';
import type { IntegrationsService } from '../integrations/integrations.service';
import { nextRefreshAt } from '../refresh/schedule';
import { decodeCursor, decodeIdCursor, keysetCursorOf, pageOf } from './cursor';
import { revokeAtProvider, type ProviderRevocation, type RevocationOutcome } from './provider-revocation';

export interface GrantInput {
  refreshToken: string;
  accessToken?: string;
  expiresIn?: number;
  expiresAt?: Date;
  scopes?: string[];
  tokenType?: string;
  /** What the provider said of the refresh token's lifetime (a code exchange's `refresh_token_expires_in`). */
  refreshTokenExpiresIn?: number;
}

export interface ImportGrantInput extends GrantInput {
  integration: string;
  tenantId: string;
  externalId?: string;
  endUserId?: string;
  metadata?: Record<string, unknown>;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export class ConnectionsService {
  constructor(
    private readonly db: Database,
    private readonly connections: ConnectionsRepository,
    private readonly eventsRepo: EventsRepository,
    private readonly integrations: IntegrationsService,
    private readonly cipher: EnvelopeCipher,
    private readonly providers: ProviderRegistry,
    private readonly defaultMarginSeconds: number,
  ) {}

  async importGrant(scope: TenantScope, input: ImportGrantInput): Promise<ConnectionView> {
    if (scope.tenantId !== null && scope.tenantId !== input.tenantId) {
      throw new VaultError('forbidden', 'this API key may only write connections of its own tenant');
    }
    const integration = await this.integrations.get(input.integration).catch((err: unknown) => {
      if (err instanceof VaultError && err.code === 'not_found') {
        throw VaultError.validation('integration', 'no integration has this key');
      }
      throw err;
    });
    const id = randomUUID();
    const grant = await this.sealGrant(
      id,
      integration.provider as ProviderName,
      integration.refreshMarginSeconds,
      input,
    );
    try {
      await this.db.transaction(async (tx) => {
        await this.connections.insert(
          {
            id,
            integrationId: integration.id,
            tenantId: input.tenantId,
            externalId: input.externalId ?? null,
            endUserId: input.endUserId ?? null,
            status: 'active',
            metadata: input.metadata ?? {},
            ...grant,
          },
          tx,
        );
        await this.eventsRepo.append(
          {
            connectionId: id,
            tenantId: input.tenantId,
            type: 'created',
            detail: { integration: integration.key },
          },
          tx,
        );
      });
    } catch (err) {
      if (err instanceof UniqueViolation) {
        throw new VaultError(
          'connection_exists',
          'a connection with this integration, tenant_id and external_id exists; replace its grant instead',
          { integration: input.integration, tenant_id: input.tenantId, external_id: input.externalId },
        );
      }
      // The integration was deleted between our read and the insert (not a sealed value's data key: *_key_id_fk).
      if (err instanceof ForeignKeyViolation && !err.constraint?.endsWith('_key_id_fk'))
        throw VaultError.validation('integration', 'no integration has this key');
      throw err;
    }
    return this.get(scope, id);
  }

  async get(scope: TenantScope, id: string): Promise<ConnectionView> {
    const row = await this.connections.findView(scope, id);
    if (!row) throw VaultError.notFound('connection');
    return row;
  }

  async list(
    scope: TenantScope,
    filter: { status?: ConnectionStatus; integration?: string; provider?: string; tenantId?: string },
    cursor: string | undefined,
    limit: number,
  ): Promise<Page<ConnectionView>> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    const rows = await this.connections.list(
      scope,
      {
        status: filter.status,
        integrationKey: filter.integration,
        provider: filter.provider,
        tenantId: filter.tenantId,
      },
      after,
      limit + 1,
    );
    return pageOf(rows, limit, keysetCursorOf);
  }

  /**
   * Replaces the grant after a re-consent (done elsewhere, or by a connect session: `reconsent`, which records
   * `reauthorized` whatever the previous status): the connection becomes `active` again on the same ID.
   */
  async replaceGrant(
    scope: TenantScope,
    id: string,
    input: GrantInput,
    reconsent?: { sessionId: string },
  ): Promise<ConnectionView> {
    const current = await this.get(scope, id);
    const grant = await this.sealGrant(
      id,
      current.provider as ProviderName,
      (await this.integrations.getById(current.integrationId)).refreshMarginSeconds,
      input,
    );
    await this.db.transaction(async (tx) => {
      if (!(await this.connections.replaceGrant(scope, id, grant, tx)))
        throw VaultError.notFound('connection');
      await this.eventsRepo.append(
        {
          connectionId: id,
          tenantId: current.tenantId,
          type:
            reconsent || current.status === 'needs_reauth' || current.status === 'revoked'
              ? 'reauthorized'
              : 'grant_replaced',
          detail: {
            previous_status: current.status,
            ...(reconsent ? { via: 'connect_session', connect_session_id: reconsent.sessionId } : {}),
          },
        },
        tx,
      );
    });
    return this.get(scope, id);
  }

  /**
   * Revokes the refresh token at the provider where it has a revocation endpoint (RFC 7009), then deletes
   * the connection and its ciphertexts. Revocation is best effort: the local secrets go either way.
   */
  async delete(scope: TenantScope, id: string): Promise<{ providerRevocation: ProviderRevocation }> {
    const found = await this.connections.findRefreshTokenSealed(scope, id);
    if (!found) throw VaultError.notFound('connection');
    const { providerRevocation } = found.sealed
      ? await this.revokeAtProvider(id, found.integrationId, found.sealed)
      : { providerRevocation: 'revoked' as const }; // revoked earlier: nothing left to revoke
    if (!(await this.connections.delete(scope, id))) throw VaultError.notFound('connection');
    return { providerRevocation };
  }

  /**
   * Revocation without deletion: revokes at the provider (best effort), then wipes every secret and keeps the
   * row (status `revoked`) and its history, with a `revoked` event that records what the provider said. A
   * provider that fails to revoke does not keep the secret alive here. Revoking a revoked connection changes
   * nothing.
   */
  async revoke(
    scope: TenantScope,
    id: string,
  ): Promise<{ connection: ConnectionView; providerRevocation: ProviderRevocation | 'already_revoked' }> {
    const found = await this.connections.findRefreshTokenSealed(scope, id);
    if (!found) throw VaultError.notFound('connection');
    if (!found.sealed)
      return { connection: await this.get(scope, id), providerRevocation: 'already_revoked' };
    const outcome = await this.revokeAtProvider(id, found.integrationId, found.sealed);
    await this.db.transaction(async (tx) => {
      if (!(await this.connections.wipeSecrets(scope, id, tx))) throw VaultError.notFound('connection');
      await this.eventsRepo.append(
        {
          connectionId: id,
          tenantId: found.tenantId,
          type: 'revoked',
          detail: {
            previous_status: found.status,
            provider_revocation: outcome.providerRevocation,
            ...(outcome.failure ? { failure: outcome.failure } : {}),
          },
        },
        tx,
      );
    });
    return { connection: await this.get(scope, id), providerRevocation: outcome.providerRevocation };
  }

  private revokeAtProvider(id: string, integrationId: string, sealed: Buffer): Promise<RevocationOutcome> {
    return revokeAtProvider(
      { integrations: this.integrations, providers: this.providers, cipher: this.cipher },
      id,
      integrationId,
      sealed,
    );
  }

  async listEvents(
    scope: TenantScope,
    id: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<Page<ConnectionEventEntity>> {
    await this.get(scope, id);
    const rows = await this.eventsRepo.list(id, decodeIdCursor(cursor), limit + 1);
    return pageOf(rows, limit, (last) => String(last.id));
  }

  private async sealGrant(
    id: string,
    provider: ProviderName,
    marginOverride: number | null,
    input: GrantInput,
  ) {
    if (input.expiresIn !== undefined && input.expiresAt !== undefined) {
      throw VaultError.validation('expires_in', 'give expires_in or expires_at, not both');
    }
    if (input.accessToken === undefined && (input.expiresIn !== undefined || input.expiresAt !== undefined)) {
      throw VaultError.validation('access_token', 'an expiry was given without an access token');
    }
    const now = new Date();
    let expiresAt: Date | null = null;
    if (input.accessToken !== undefined) {
      if (input.expiresAt !== undefined) expiresAt = input.expiresAt;
      else {
        // No expiry given: assume the provider's default lifetime counted from now.
        const ttl = input.expiresIn ?? CATALOGUE[provider].defaultAccessTokenTtlSeconds;
        expiresAt = new Date(now.getTime() + ttl * 1000);
      }
    }
    const margin = marginOverride ?? this.defaultMarginSeconds;
    return {
      refreshTokenSealed: await this.cipher.seal(input.refreshToken, aad.connection(id, 'refresh_token')),
      accessTokenSealed:
        input.accessToken === undefined
          ? null
          : await this.cipher.seal(input.accessToken, aad.connection(id, 'access_token')),
      accessTokenExpiresAt: expiresAt,
      tokenType: input.tokenType ?? 'Bearer',
      scopes: input.scopes ?? [],
      nextRefreshAt: nextRefreshAt(expiresAt, margin, now),
      refreshTokenExpiresAt: refreshTokenDeath(provider, input.refreshTokenExpiresIn, now),
    };
  }
}

/**
 * When a new grant's refresh token dies: as the provider says, else the catalogue's absolute lifetime counted
 * from the consent. Idle lifetimes are not counted: the vault refreshes far more often than any of them.
 */
function refreshTokenDeath(
  provider: ProviderName,
  statedSeconds: number | undefined,
  now: Date,
): Date | null {
  const seconds = statedSeconds ?? CATALOGUE[provider].refreshTokenLifetimeSeconds;
  return seconds ? new Date(now.getTime() + seconds * 1000) : null;
}
