import { randomUUID } from 'node:crypto';
import type { EnvelopeCipher } from '@vault/crypto';
import {
  ForeignKeyViolation,
  IntegrationEventsRepository,
  IntegrationsRepository,
  UniqueViolation,
  type IntegrationPatch,
  type Database,
  type IntegrationEntity,
  type IntegrationEvent,
  type Queryable,
} from '@vault/persistence';
import {
  CATALOGUE,
  checkOutboundUrl,
  explainRefusal,
  systemResolver,
  type ClientAuthMethod,
  type OutboundPolicy,
  type ProviderName,
  type Resolver,
} from '@vault/providers';
import { decodeCursor, decodeIdCursor, keysetCursorOf, pageOf } from '../connections/cursor';
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';
import { checkAllowedReturnUrls, checkAuthorizeParams } from '../connect/return-urls';
import { assertSecretFollowsUrls, describeChange, snapshot } from './integration-changes';

export interface CreateIntegrationInput {
  key: string;
  provider: ProviderName;
  clientId: string;
  clientSecret: string;
  tokenUrl?: string | null;
  authorizeUrl?: string | null;
  revokeUrl?: string | null;
  scopes?: string[];
  clientAuth?: ClientAuthMethod;
  refreshMarginSeconds?: number | null;
  requestTimeoutMs?: number | null;
  allowedReturnUrls?: string[];
  authorizeParams?: Record<string, string>;
}

export type UpdateIntegrationInput = Partial<Omit<CreateIntegrationInput, 'key' | 'provider'>> & {
  /** With `clientSecret`: the secret it replaces stays usable (as a fallback) until then. */
  previousSecretValidUntil?: Date;
};

/** The longest overlap a client secret rotation may keep the previous secret for. */
const MAX_SECRET_OVERLAP_MS = 90 * 24 * 3600_000;

/** An integration with its client secret opened: only for the provider call, never for an answer. */
export interface IntegrationCredentials {
  integration: IntegrationEntity;
  clientSecret: string;
}

/** Who makes a change to an integration: the API key's ID (recorded in the integration's events). */
export type ActorKeyId = string | null;

export class IntegrationsService {
  constructor(
    private readonly repo: IntegrationsRepository,
    private readonly cipher: EnvelopeCipher,
    private readonly db: Database,
    private readonly events: IntegrationEventsRepository,
    private readonly outbound: OutboundPolicy,
    private readonly resolver: Resolver = systemResolver,
  ) {}

  /** The outbound URL rules (design 6b) on each URL given: 400 validation_failed naming the first bad field. */
  private async checkUrls(
    urls: Partial<Record<'token_url' | 'authorize_url' | 'revoke_url', string | null>>,
  ) {
    for (const [field, url] of Object.entries(urls)) {
      if (!url) continue;
      const refusal = await checkOutboundUrl(url, this.outbound, this.resolver);
      if (refusal) throw VaultError.validation(field, explainRefusal(refusal));
    }
  }

  async create(input: CreateIntegrationInput, actor: ActorKeyId = null): Promise<IntegrationEntity> {
    const entry = CATALOGUE[input.provider];
    const tokenUrl = input.tokenUrl ?? entry.tokenUrl;
    if (!tokenUrl) {
      throw VaultError.validation(
        'token_url',
        `provider ${input.provider} has no default token URL; give one`,
      );
    }
    await this.checkUrls({
      token_url: input.tokenUrl,
      authorize_url: input.authorizeUrl,
      revoke_url: input.revokeUrl,
    });
    if (input.allowedReturnUrls) checkAllowedReturnUrls(input.allowedReturnUrls);
    if (input.authorizeParams) checkAuthorizeParams(input.authorizeParams);
    if (await this.repo.findByKey(input.key)) {
      throw new VaultError('integration_exists', `an integration with key ${input.key} exists`, {
        key: input.key,
      });
    }
    const id = randomUUID();
    const clientSecretSealed = await this.cipher.seal(input.clientSecret, aad.integration(id));
    try {
      return await this.db.transaction(async (tx) => {
        const created = await this.repo.insert(
          {
            id,
            key: input.key,
            provider: input.provider,
            clientId: input.clientId,
            clientSecretSealed,
            tokenUrl: input.tokenUrl ?? null,
            authorizeUrl: input.authorizeUrl ?? null,
            revokeUrl: input.revokeUrl ?? null,
            scopes: input.scopes ?? [],
            clientAuth: input.clientAuth ?? entry.clientAuth,
            refreshMarginSeconds: input.refreshMarginSeconds ?? null,
            requestTimeoutMs: input.requestTimeoutMs ?? null,
            allowedReturnUrls: input.allowedReturnUrls ?? [],
            authorizeParams: input.authorizeParams ?? {},
          },
          tx,
        );
        await this.record(created, 'created', actor, snapshot(created), tx);
        return created;
      });
    } catch (err) {
      if (err instanceof UniqueViolation) {
        throw new VaultError('integration_exists', `an integration with key ${input.key} exists`, {
          key: input.key,
        });
      }
      throw err;
    }
  }

  async list(
    cursor: string | undefined,
    limit: number,
  ): Promise<{ data: IntegrationEntity[]; nextCursor: string | null }> {
    const rows = await this.repo.list(cursor === undefined ? null : decodeCursor(cursor), limit + 1);
    return pageOf(rows, limit, keysetCursorOf);
  }

  /** The history of every integration that had this key, newest first. */
  async listEvents(
    key: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ data: IntegrationEvent[]; nextCursor: string | null }> {
    const before = decodeIdCursor(cursor);
    const rows = await this.events.list(key, before, limit + 1);
    if (rows.length === 0 && before === null) await this.get(key);
    return pageOf(rows, limit, (last) => last.id);
  }

  async get(key: string): Promise<IntegrationEntity> {
    const row = await this.repo.findByKey(key);
    if (!row) throw VaultError.notFound('integration');
    return row;
  }

  async getById(id: string): Promise<IntegrationEntity> {
    const row = await this.repo.findById(id);
    if (!row) throw VaultError.notFound('integration');
    return row;
  }

  /**
   * Changes settings; a new client secret is sealed; new credentials or token URL clear
   * `credentials_rejected`. Moving the token or revocation URL needs the client secret in the same change.
   * Every change is recorded as an event.
   */
  async update(
    key: string,
    patch: UpdateIntegrationInput,
    actor: ActorKeyId = null,
  ): Promise<IntegrationEntity> {
    const before = await this.get(key);
    checkOverlap(patch);
    const changes: Parameters<IntegrationsRepository['update']>[1] = {};
    if (patch.clientId !== undefined) changes.clientId = patch.clientId;
    if (patch.tokenUrl !== undefined) changes.tokenUrl = patch.tokenUrl;
    if (patch.authorizeUrl !== undefined) changes.authorizeUrl = patch.authorizeUrl;
    if (patch.revokeUrl !== undefined) changes.revokeUrl = patch.revokeUrl;
    if (patch.scopes !== undefined) changes.scopes = patch.scopes;
    if (patch.clientAuth !== undefined) changes.clientAuth = patch.clientAuth;
    if (patch.refreshMarginSeconds !== undefined) changes.refreshMarginSeconds = patch.refreshMarginSeconds;
    if (patch.requestTimeoutMs !== undefined) changes.requestTimeoutMs = patch.requestTimeoutMs;
    if (patch.allowedReturnUrls !== undefined) {
      checkAllowedReturnUrls(patch.allowedReturnUrls);
      changes.allowedReturnUrls = patch.allowedReturnUrls;
    }
    if (patch.authorizeParams !== undefined)
      changes.authorizeParams = checkAuthorizeParams(patch.authorizeParams);
    const tokenUrl = changes.tokenUrl === undefined ? before.tokenUrl : changes.tokenUrl;
    if (!tokenUrl && !CATALOGUE[before.provider as ProviderName].tokenUrl) {
      throw VaultError.validation(
        'token_url',
        `provider ${before.provider} has no default token URL; give one`,
      );
    }
    await this.checkUrls({
      token_url: patch.tokenUrl,
      authorize_url: patch.authorizeUrl,
      revoke_url: patch.revokeUrl,
    });
    assertSecretFollowsUrls(describeChange(before, changes, false), patch.clientSecret !== undefined);
    // New credentials, or a new token URL (one refused by the outbound rules, say), deserve another try.
    if (patch.clientSecret !== undefined || patch.clientId !== undefined || patch.tokenUrl !== undefined) {
      changes.status = 'ok';
      changes.statusReason = null;
    }
    if (patch.clientSecret !== undefined) {
      changes.clientSecretSealed = await this.cipher.seal(patch.clientSecret, aad.integration(before.id));
      Object.assign(
        changes,
        await this.previousSecret(before.id, patch.clientSecret, patch.previousSecretValidUntil),
      );
    }
    await this.db.transaction(async (tx) => {
      // Locked so the recorded old values are the ones this change replaces.
      const current = await this.repo.findByKeyForUpdate(key, tx);
      if (!current || current.id !== before.id) throw VaultError.notFound('integration');
      const change = describeChange(current, changes, patch.clientSecret !== undefined);
      if (change && patch.previousSecretValidUntil) {
        change.previous_secret_valid_until = patch.previousSecretValidUntil.toISOString();
      }
      assertSecretFollowsUrls(change, patch.clientSecret !== undefined);
      if (Object.keys(changes).length > 0) await this.repo.update(current.id, changes, tx);
      if (change) await this.record(current, 'updated', actor, change, tx);
    });
    return this.get(key);
  }

  /**
   * The previous-secret columns of a rotation: with an overlap, the secret being replaced sealed under its own
   * field; without one, none. Sending the same secret again (a retried PATCH) keeps the overlap as it is.
   */
  private async previousSecret(
    id: string,
    next: string,
    validUntil: Date | undefined,
  ): Promise<Pick<IntegrationPatch, 'previousClientSecretSealed' | 'previousSecretValidUntil'>> {
    if (!validUntil) return { previousClientSecretSealed: null, previousSecretValidUntil: null };
    const { clientSecret: current } = await this.credentials(id);
    if (current === next) return {};
    return {
      previousClientSecretSealed: await this.cipher.seal(current, aad.previousClientSecret(id)),
      previousSecretValidUntil: validUntil,
    };
  }

  async delete(key: string, actor: ActorKeyId = null): Promise<void> {
    const current = await this.get(key);
    const inUse = (count: number) =>
      new VaultError(
        'integration_in_use',
        `integration ${key} still has ${count} connection(s); delete them first`,
        { connections: count },
      );
    const count = await this.repo.countConnections(current.id);
    if (count > 0) throw inUse(count);
    try {
      await this.db.transaction(async (tx) => {
        if (await this.repo.delete(current.id, tx)) {
          await this.record(current, 'deleted', actor, snapshot(current), tx);
        }
      });
    } catch (err) {
      // A connection was imported between the count and the delete (the foreign key refuses the delete).
      if (err instanceof ForeignKeyViolation) throw inUse(await this.repo.countConnections(current.id));
      throw err;
    }
  }

  private record(
    i: IntegrationEntity,
    type: IntegrationEvent['type'],
    actor: ActorKeyId,
    changes: Record<string, unknown>,
    tx: Queryable,
  ): Promise<void> {
    return this.events.append(
      { integrationId: i.id, integrationKey: i.key, type, actorKeyId: actor, changes },
      tx,
    );
  }

  async credentials(id: string): Promise<IntegrationCredentials> {
    const row = await this.repo.findByIdWithSecret(id);
    if (!row) throw VaultError.notFound('integration');
    const clientSecret = await this.cipher.open(row.clientSecretSealed, aad.integration(row.id));
    return { integration: row, clientSecret };
  }
}

/** `previous_secret_valid_until` goes with a new `client_secret`, and lies ahead (at most 90 days). */
function checkOverlap(patch: UpdateIntegrationInput): void {
  const until = patch.previousSecretValidUntil;
  if (until === undefined) return;
  const field = 'previous_secret_valid_until';
  if (patch.clientSecret === undefined) {
    throw VaultError.validation(field, 'goes with client_secret (it keeps the secret being replaced usable)');
  }
  const ahead = until.getTime() - Date.now();
  if (!(ahead > 0)) throw VaultError.validation(field, 'must be in the future');
  if (ahead > MAX_SECRET_OVERLAP_MS) throw VaultError.validation(field, 'must be at most 90 days ahead');
}
