import { randomUUID } from 'node:crypto';
import type { EnvelopeCipher } from '@vault/crypto';
import {
  ForeignKeyViolation,
  IntegrationsRepository,
  UniqueViolation,
  type IntegrationEntity,
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
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';

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
}

export type UpdateIntegrationInput = Partial<Omit<CreateIntegrationInput, 'key' | 'provider'>>;

/** An integration with its client secret opened: only for the provider call, never for an answer. */
export interface IntegrationCredentials {
  integration: IntegrationEntity;
  clientSecret: string;
}

export class IntegrationsService {
  constructor(
    private readonly repo: IntegrationsRepository,
    private readonly cipher: EnvelopeCipher,
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

  async create(input: CreateIntegrationInput): Promise<IntegrationEntity> {
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
    if (await this.repo.findByKey(input.key)) {
      throw new VaultError('integration_exists', `an integration with key ${input.key} exists`, {
        key: input.key,
      });
    }
    const id = randomUUID();
    try {
      return await this.repo.insert({
        id,
        key: input.key,
        provider: input.provider,
        clientId: input.clientId,
        clientSecretSealed: await this.cipher.seal(input.clientSecret, aad.integration(id)),
        tokenUrl: input.tokenUrl ?? null,
        authorizeUrl: input.authorizeUrl ?? null,
        revokeUrl: input.revokeUrl ?? null,
        scopes: input.scopes ?? [],
        clientAuth: input.clientAuth ?? entry.clientAuth,
        refreshMarginSeconds: input.refreshMarginSeconds ?? null,
        requestTimeoutMs: input.requestTimeoutMs ?? null,
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

  list(): Promise<IntegrationEntity[]> {
    return this.repo.list();
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

  /** Changes settings; a new client secret is sealed; new credentials or token URL clear `credentials_rejected`. */
  async update(key: string, patch: UpdateIntegrationInput): Promise<IntegrationEntity> {
    const current = await this.get(key);
    const changes: Parameters<IntegrationsRepository['update']>[1] = {};
    if (patch.clientId !== undefined) changes.clientId = patch.clientId;
    if (patch.tokenUrl !== undefined) changes.tokenUrl = patch.tokenUrl;
    if (patch.authorizeUrl !== undefined) changes.authorizeUrl = patch.authorizeUrl;
    if (patch.revokeUrl !== undefined) changes.revokeUrl = patch.revokeUrl;
    if (patch.scopes !== undefined) changes.scopes = patch.scopes;
    if (patch.clientAuth !== undefined) changes.clientAuth = patch.clientAuth;
    if (patch.refreshMarginSeconds !== undefined) changes.refreshMarginSeconds = patch.refreshMarginSeconds;
    if (patch.requestTimeoutMs !== undefined) changes.requestTimeoutMs = patch.requestTimeoutMs;
    const tokenUrl = changes.tokenUrl === undefined ? current.tokenUrl : changes.tokenUrl;
    if (!tokenUrl && !CATALOGUE[current.provider as ProviderName].tokenUrl) {
      throw VaultError.validation(
        'token_url',
        `provider ${current.provider} has no default token URL; give one`,
      );
    }
    await this.checkUrls({
      token_url: patch.tokenUrl,
      authorize_url: patch.authorizeUrl,
      revoke_url: patch.revokeUrl,
    });
    // New credentials, or a new token URL (one refused by the outbound rules, say), deserve another try.
    if (patch.clientSecret !== undefined || patch.clientId !== undefined || patch.tokenUrl !== undefined) {
      changes.status = 'ok';
      changes.statusReason = null;
    }
    if (patch.clientSecret !== undefined) {
      changes.clientSecretSealed = await this.cipher.seal(patch.clientSecret, aad.integration(current.id));
    }
    if (Object.keys(changes).length > 0) await this.repo.update(current.id, changes);
    return this.get(key);
  }

  async delete(key: string): Promise<void> {
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
      await this.repo.delete(current.id);
    } catch (err) {
      // A connection was imported between the count and the delete (the foreign key refuses the delete).
      if (err instanceof ForeignKeyViolation) throw inUse(await this.repo.countConnections(current.id));
      throw err;
    }
  }

  async credentials(id: string): Promise<IntegrationCredentials> {
    const row = await this.repo.findByIdWithSecret(id);
    if (!row) throw VaultError.notFound('integration');
    const clientSecret = await this.cipher.open(row.clientSecretSealed, aad.integration(row.id));
    return { integration: row, clientSecret };
  }
}
