import { createHash, randomUUID } from 'node:crypto';
import type { EnvelopeCipher } from '@vault/crypto';
import type { ConnectSessionsRepository, ConnectionsRepository, TenantScope } from '@vault/persistence';
import {
  buildAuthorizeUrl,
  CATALOGUE,
  startPkce,
  type ProviderName,
  type ProviderRegistry,
} from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import type { ConnectionsService } from '../connections/connections.service';
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';
import type { IntegrationsService } from '../integrations/integrations.service';
import { providerClient } from '../refresh/refresh-request';
import type { WebhookNotifier } from '../webhooks/webhook-notifier';
import { assertReturnUrlAllowed } from './return-urls';

/** How long a started authorization may take: the end user's login and consent. */
export const CONNECT_SESSION_TTL_MS = 10 * 60_000;
/** Expired sessions are kept this long (a late callback hears "expired", not "unknown"), then pruned. */
const PRUNE_AFTER_MS = 24 * 3600_000;
/** What reaches the return URL as `error`: a code, never free text (the provider's description is dropped). */
const ERROR_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface StartConnectSession {
  integration: string;
  tenantId: string;
  connectionId?: string;
  endUserId?: string;
  returnUrl: string;
  scopes?: string[];
  /** Slack user-token scopes. */
  userScopes?: string[];
}

export interface CallbackParams {
  state?: string;
  code?: string;
  error?: string;
}

const hashState = (state: string): Buffer => createHash('sha256').update(state).digest();

/**
 * Connect sessions: the authorization-code flow with PKCE S256 run by the vault, for a new connection or the
 * re-consent of an existing one (same ID). The state is random, single use and stored only as its hash; the
 * PKCE verifier is sealed and never leaves the vault. The callback authenticates by its state alone.
 */
export class ConnectSessionsService {
  constructor(
    private readonly sessions: ConnectSessionsRepository,
    private readonly connectionsRepo: ConnectionsRepository,
    private readonly connections: ConnectionsService,
    private readonly integrations: IntegrationsService,
    private readonly cipher: EnvelopeCipher,
    private readonly providers: ProviderRegistry,
    private readonly webhooks: WebhookNotifier,
    private readonly config: Pick<VaultConfig, 'PUBLIC_URL' | 'NODE_ENV' | 'PROVIDER_TIMEOUT_MS'>,
  ) {}

  get redirectUri(): string {
    return `${this.config.PUBLIC_URL}/v1/oauth/callback`;
  }

  async start(
    scope: TenantScope,
    input: StartConnectSession,
  ): Promise<{ id: string; authorizeUrl: string; expiresAt: Date }> {
    if (scope.tenantId !== null && scope.tenantId !== input.tenantId) {
      throw new VaultError('forbidden', 'this API key may only start sessions for its own tenant');
    }
    const integration = await this.integrations.get(input.integration).catch((err: unknown) => {
      if (err instanceof VaultError && err.code === 'not_found')
        throw VaultError.validation('integration', 'no integration has this key');
      throw err;
    });
    assertReturnUrlAllowed(
      input.returnUrl,
      integration.allowedReturnUrls,
      this.config.NODE_ENV === 'production',
    );
    if (input.connectionId !== undefined) {
      const conn = await this.connectionsRepo.findView(scope, input.connectionId);
      if (!conn) throw VaultError.notFound('connection');
      if (conn.tenantId !== input.tenantId || conn.integrationId !== integration.id) {
        throw VaultError.validation(
          'connection_id',
          'belongs to another tenant or integration than the session',
        );
      }
    }
    const entry = CATALOGUE[integration.provider as ProviderName];
    const authorizeUrl = integration.authorizeUrl ?? entry.authorizeUrl;
    if (!authorizeUrl) {
      throw VaultError.validation(
        'integration',
        `has no authorize_url (provider ${entry.provider} needs one)`,
      );
    }
    const pkce = await startPkce();
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + CONNECT_SESSION_TTL_MS);
    const scopes = input.scopes ?? integration.scopes;
    await this.sessions.insert({
      id,
      stateHash: hashState(pkce.state),
      integrationId: integration.id,
      tenantId: input.tenantId,
      connectionId: input.connectionId ?? null,
      endUserId: input.endUserId ?? null,
      returnUrl: input.returnUrl,
      redirectUri: this.redirectUri,
      scopes,
      codeVerifierSealed: await this.cipher.seal(pkce.codeVerifier, aad.connectSession(id)),
      expiresAt,
    });
    const url = buildAuthorizeUrl({
      entry,
      authorizeUrl,
      clientId: integration.clientId,
      redirectUri: this.redirectUri,
      state: pkce.state,
      codeChallenge: pkce.codeChallenge,
      scopes,
      userScopes: input.userScopes,
      extraParams: integration.authorizeParams,
    });
    return { id, authorizeUrl: url, expiresAt };
  }

  /**
   * The redirect URI's work: consumes the session of this state (refusing an unknown, used or expired one with
   * nothing changed), exchanges the code with the session's verifier, stores the grant (a new connection, or
   * the session's connection re-consented in place) and answers where to send the browser: the return URL
   * with `connection_id`, or with `error` (a code) when the user refused or the exchange failed.
   */
  async complete(params: CallbackParams): Promise<string> {
    if (!params.state) {
      throw new VaultError('connect_session_invalid', 'the callback carries no state: no connect session');
    }
    const stateHash = hashState(params.state);
    const session = await this.sessions.consume(stateHash);
    if (!session) {
      const why = await this.sessions.whyNotConsumable(stateHash);
      if (why === 'used')
        throw new VaultError('connect_session_used', 'this connect session was already completed');
      if (why === 'expired')
        throw new VaultError('connect_session_expired', 'this connect session expired; start a new one');
      throw new VaultError('connect_session_invalid', 'no connect session has this state');
    }
    const back = (p: Record<string, string>): string => {
      const url = new URL(session.returnUrl);
      for (const [k, v] of Object.entries(p)) url.searchParams.set(k, v);
      return url.href;
    };
    if (params.error !== undefined) {
      return back({ error: ERROR_CODE.test(params.error) ? params.error : 'malformed_error_code' });
    }
    if (!params.code) return back({ error: 'invalid_request' });

    const { integration, clientSecret } = await this.integrations.credentials(session.integrationId);
    const provider = integration.provider as ProviderName;
    const result = await this.providers.get(provider).exchangeCode({
      ...providerClient(integration, clientSecret),
      code: params.code,
      redirectUri: session.redirectUri,
      codeVerifier: await this.cipher.open(session.codeVerifierSealed, aad.connectSession(session.id)),
      timeoutMs: integration.requestTimeoutMs ?? this.config.PROVIDER_TIMEOUT_MS,
    });
    if (!result.ok) return back({ error: result.failure.code });
    const t = result.tokens;
    if (!t.refreshToken) return back({ error: 'no_refresh_token' });
    const grant = {
      refreshToken: t.refreshToken,
      accessToken: t.accessToken,
      ...(t.expiresIn !== null ? { expiresIn: t.expiresIn } : {}),
      scopes: t.scopes ?? session.scopes,
      tokenType: t.tokenType,
      ...(t.refreshTokenExpiresIn !== null ? { refreshTokenExpiresIn: t.refreshTokenExpiresIn } : {}),
    };
    const scope: TenantScope = { tenantId: session.tenantId };
    if (session.connectionId) {
      const conn = await this.connections.replaceGrant(scope, session.connectionId, grant, {
        sessionId: session.id,
      });
      this.webhooks.reauthorized({
        connectionId: conn.id,
        tenantId: conn.tenantId,
        integration: conn.integrationKey,
        provider: conn.provider,
      });
      return back({ connection_id: conn.id });
    }
    const conn = await this.connections.importGrant(scope, {
      ...grant,
      integration: integration.key,
      tenantId: session.tenantId,
      ...(session.endUserId !== null ? { endUserId: session.endUserId } : {}),
    });
    return back({ connection_id: conn.id });
  }

  /** Deletes sessions expired for more than a day; returns how many went. */
  pruneExpired(now: Date = new Date()): Promise<number> {
    return this.sessions.pruneExpired(new Date(now.getTime() - PRUNE_AFTER_MS));
  }
}
