import { NotFoundError, ReauthRequiredError, VaultApiError } from './errors';
import { localExpiry, TokenCache } from './token-cache';
import { abortReason, call, sleep, type CallOptions, type TransportSettings } from './transport';
import type {
  AccessToken,
  ConnectSession,
  ConnectSessionInput,
  RevokedConnection,
  Connection,
  ConnectionEvent,
  GrantInput,
  ImportConnectionInput,
  ListConnectionsQuery,
  Page,
  PageQuery,
  RefreshResult,
} from './types';

export interface VaultClientOptions {
  /** The vault API, e.g. `http://vault-api:3000`. */
  baseUrl: string;
  /** An API key with `tokens:read` (and `connections:read`/`connections:write` for the other calls). */
  apiKey: string;
  /** Per call, the time spent waiting out 503 answers as their Retry-After says, in ms. Default 10 000; 0: no retry. */
  retryDeadlineMs?: number;
  /** Timeout of each HTTP request, in ms. Default 30 000 (a read may wait for a provider call). */
  requestTimeoutMs?: number;
  /** Most tokens kept in memory (the one fetched longest ago goes first). Default 10 000. */
  maxCachedTokens?: number;
  /** Default `minTtl` of getToken, in seconds. Default 60, like the API. */
  defaultMinTtl?: number;
  /** Replacements for tests: fetch, clock and timer. */
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface GetTokenOptions {
  /** The token must stay valid at least this many seconds (0..86400). */
  minTtl?: number;
  /** Stops waiting (the shared request goes on for the other callers). */
  signal?: AbortSignal;
  retryDeadlineMs?: number;
}

export type RequestOptions = Pick<CallOptions, 'signal' | 'retryDeadlineMs'>;

/**
 * Typed client of the credential vault for platform services. `getToken` keeps each access token in memory
 * until `expires_at − minTtl`, so a busy service asks the vault about once per token lifetime; concurrent
 * calls for the same connection and `minTtl` share one request.
 */
export class VaultClient {
  readonly #http: TransportSettings;
  readonly #cache: TokenCache;
  readonly #inflight = new Map<string, Promise<AccessToken>>();
  readonly #defaultMinTtl: number;

  constructor(options: VaultClientOptions) {
    if (typeof options.apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(options.apiKey))
      throw new TypeError('VaultClient: apiKey must be a non-empty API key of printable characters');
    const base = new URL(options.baseUrl);
    this.#http = {
      baseUrl: base.origin + base.pathname.replace(/\/+$/, ''),
      authorization: `Bearer ${options.apiKey}`,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      retryDeadlineMs: options.retryDeadlineMs ?? 10_000,
      now: options.now ?? Date.now,
      sleep: options.sleep ?? sleep,
    };
    this.#cache = new TokenCache(options.maxCachedTokens ?? 10_000);
    this.#defaultMinTtl = checkMinTtl(options.defaultMinTtl ?? 60);
  }

  /**
   * A token valid for at least `minTtl` seconds: from memory while it lasts, else from the vault (which
   * refreshes it first if needed). Throws ReauthRequiredError, NotFoundError, UnavailableError (once the
   * retry deadline is spent), UnauthorizedError, ForbiddenError or VaultApiError.
   */
  getToken(connectionId: string, options: GetTokenOptions = {}): Promise<AccessToken> {
    checkId(connectionId);
    const minTtl = checkMinTtl(options.minTtl ?? this.#defaultMinTtl);
    const cached = this.#cache.get(connectionId, minTtl * 1000, this.#http.now());
    if (cached) return Promise.resolve(cached);
    const key = `${connectionId}\n${minTtl}`;
    let shared = this.#inflight.get(key);
    if (!shared) {
      shared = this.#fetchToken(connectionId, minTtl, options.retryDeadlineMs).finally(() =>
        this.#inflight.delete(key),
      );
      this.#inflight.set(key, shared);
      // Callers that stopped waiting leave the shared request unobserved: its failure is theirs, not the process's.
      shared.catch(() => undefined);
    }
    return options.signal ? untilAborted(shared, options.signal) : shared;
  }

  /** Forgets the cached token of a connection (e.g. after the downstream API refused it). */
  invalidate(connectionId: string): void {
    this.#cache.delete(connectionId);
  }

  /** Forgets every cached token. */
  clearCache(): void {
    this.#cache.clear();
  }

  async getConnection(connectionId: string, options: RequestOptions = {}): Promise<Connection> {
    checkId(connectionId);
    return (await call<Connection>(this.#http, 'GET', `/v1/connections/${enc(connectionId)}`, options)).body;
  }

  async listConnections(
    query: ListConnectionsQuery = {},
    options: RequestOptions = {},
  ): Promise<Page<Connection>> {
    return (await call<Page<Connection>>(this.#http, 'GET', '/v1/connections', { ...options, query })).body;
  }

  /** Every connection matching `query`, page after page. */
  async *connections(query: Omit<ListConnectionsQuery, 'cursor'> = {}, options: RequestOptions = {}) {
    let cursor: string | undefined;
    do {
      const page: Page<Connection> = await this.listConnections({ ...query, cursor }, options);
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  async listEvents(
    connectionId: string,
    query: PageQuery = {},
    options: RequestOptions = {},
  ): Promise<Page<ConnectionEvent>> {
    checkId(connectionId);
    const path = `/v1/connections/${enc(connectionId)}/events`;
    return (await call<Page<ConnectionEvent>>(this.#http, 'GET', path, { ...options, query })).body;
  }

  /** Forces a refresh now (scope `connections:write`) and drops the cached token. */
  async refresh(connectionId: string, options: RequestOptions = {}): Promise<RefreshResult> {
    checkId(connectionId);
    this.#cache.delete(connectionId);
    const path = `/v1/connections/${enc(connectionId)}/refresh`;
    return (await call<RefreshResult>(this.#http, 'POST', path, options)).body;
  }

  /** Imports an end user's grant (scope `connections:write`). */
  async importConnection(input: ImportConnectionInput, options: RequestOptions = {}): Promise<Connection> {
    return (await call<Connection>(this.#http, 'POST', '/v1/connections', { ...options, body: input })).body;
  }

  /** Replaces the grant after re-consent done elsewhere (scope `connections:write`); the connection is active again. */
  async replaceGrant(
    connectionId: string,
    grant: GrantInput,
    options: RequestOptions = {},
  ): Promise<Connection> {
    checkId(connectionId);
    this.#cache.delete(connectionId);
    const path = `/v1/connections/${enc(connectionId)}/grant`;
    return (await call<Connection>(this.#http, 'PUT', path, { ...options, body: grant })).body;
  }

  /** Revokes at the provider and wipes the secrets; the connection stays, `revoked` (scope `connections:write`). */
  async revoke(connectionId: string, options: RequestOptions = {}): Promise<RevokedConnection> {
    checkId(connectionId);
    this.#cache.delete(connectionId);
    const path = `/v1/connections/${enc(connectionId)}/revoke`;
    return (await call<RevokedConnection>(this.#http, 'POST', path, options)).body;
  }

  /** Starts a connect session (scope `connections:write`): send the user's browser to `authorize_url`. */
  async startConnectSession(
    input: ConnectSessionInput,
    options: RequestOptions = {},
  ): Promise<ConnectSession> {
    return (
      await call<ConnectSession>(this.#http, 'POST', '/v1/connect-sessions', { ...options, body: input })
    ).body;
  }

  async #fetchToken(connectionId: string, minTtl: number, retryDeadlineMs?: number): Promise<AccessToken> {
    const path = `/v1/connections/${enc(connectionId)}/token`;
    try {
      const answer = await call<AccessToken>(this.#http, 'GET', path, {
        query: { min_ttl: minTtl },
        retryDeadlineMs,
      });
      const token = checkToken(answer.body, `GET ${path}`);
      const expiresAt = localExpiry(Date.parse(token.expires_at), answer.serverDate, answer.sentAt);
      this.#cache.set(connectionId, token, expiresAt);
      return token;
    } catch (err) {
      if (err instanceof ReauthRequiredError || err instanceof NotFoundError)
        this.#cache.delete(connectionId);
      throw err;
    }
  }
}

function checkId(connectionId: string): void {
  if (typeof connectionId !== 'string' || connectionId.length === 0)
    throw new TypeError('VaultClient: connectionId must be a non-empty string');
}

function checkMinTtl(minTtl: number): number {
  if (!Number.isInteger(minTtl) || minTtl < 0 || minTtl > 86_400)
    throw new RangeError('VaultClient: minTtl must be an integer number of seconds from 0 to 86400');
  return minTtl;
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

/** The answer has the token's shape (without ever echoing it). */
function checkToken(body: unknown, what: string): AccessToken {
  const t = body as Partial<AccessToken> | null;
  if (
    !t ||
    typeof t.access_token !== 'string' ||
    typeof t.connection_id !== 'string' ||
    typeof t.expires_at !== 'string' ||
    Number.isNaN(Date.parse(t.expires_at))
  )
    throw new VaultApiError(`${what}: the answer is not an access token`, 'invalid_response', 200);
  return Object.freeze({
    connection_id: t.connection_id,
    access_token: t.access_token,
    token_type: typeof t.token_type === 'string' ? t.token_type : 'Bearer',
    expires_at: t.expires_at,
    scopes: Object.freeze(
      Array.isArray(t.scopes) ? t.scopes.filter((s) => typeof s === 'string') : [],
    ) as string[],
  });
}

/** Resolves as `p` does, or rejects when `signal` aborts first. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
