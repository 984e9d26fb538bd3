/** Shared types of the provider layer: catalogue entries, refresh requests, results and failures. */

export const PROVIDER_NAMES = [
  'oauth2',
  'google',
  'slack',
  'auth0',
  'microsoft',
  'github',
  'hubspot',
  'salesforce',
  'atlassian',
  'zoom',
  'dropbox',
  'notion',
  'xero',
  'intuit',
] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic';
export type FailureClass =
  'reauth_required' | 'integration_error' | 'transient' | 'rate_limited' | 'provider_error';
/**
 * - `none`: the refresh token is reused (a returned one is still stored).
 * - `rotating`: a new RT on each refresh, the old one dies at once (no grace).
 * - `rotating_with_grace`: the old RT stays usable for `graceSeconds` (Xero, Auth0 with leeway).
 * - `rotating_old_valid`: a new RT each time, the old one is not revoked (Microsoft).
 */
export type RotationFamily = 'none' | 'rotating' | 'rotating_with_grace' | 'rotating_old_valid';

/**
 * What the authorization request needs so that the code exchange answers a refresh token (connect sessions):
 * scopes always added, extra authorize parameters, and how scopes are joined.
 */
export interface AuthorizeProfile {
  /** Scopes added to every authorization request (e.g. `offline_access`). */
  offlineScopes: string[];
  /** Parameters added to the authorize URL (e.g. Google `access_type=offline`, `prompt=consent`). */
  params: Record<string, string>;
  /** How scopes are joined in `scope`: a space (RFC 6749) unless the provider says otherwise (Slack: comma). */
  scopeSeparator?: ',';
  /** Slack: user-token scopes travel in their own parameter (`user_scope`), bot scopes in `scope`. */
  userScopeParam?: string;
}

export interface CatalogueEntry {
  provider: ProviderName;
  displayName: string;
  /** null when tenant-specific and must be given per integration (e.g. auth0 https://{tenant}/oauth/token). */
  tokenUrl: string | null;
  authorizeUrl: string | null;
  /** An RFC 7009 endpoint (or the provider's close equivalent); null when there is none. */
  revokeUrl: string | null;
  clientAuth: ClientAuthMethod;
  rotation: RotationFamily;
  /** Seconds the old RT stays usable after a rotation: 0 = none; null = not rotating or never revoked. */
  graceSeconds: number | null;
  /** Used when the provider's answer has no expires_in. */
  defaultAccessTokenTtlSeconds: number;
  refreshTokenLifetimeSeconds: number | null;
  refreshTokenIdleSeconds: number | null;
  requestBody: 'form' | 'json';
  authorize: AuthorizeProfile;
  notes?: string;
}

export interface ProviderEndpoints {
  tokenUrl: string;
  authorizeUrl?: string | null;
  revokeUrl?: string | null;
}

export interface CodeExchangeRequest {
  endpoints: ProviderEndpoints;
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
  code: string;
  redirectUri: string;
  codeVerifier: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RefreshRequest {
  endpoints: ProviderEndpoints;
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
  refreshToken: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface TokenSet {
  accessToken: string;
  tokenType: string;
  expiresIn: number | null;
  /** null = the provider did not return one: keep the old refresh token. */
  refreshToken: string | null;
  scopes: string[] | null;
  refreshTokenExpiresIn: number | null;
}

export interface ProviderFailure {
  class: FailureClass;
  /**
   * The provider's error code ('invalid_grant', 'invalid_refresh_token', 'BAD_REFRESH_TOKEN'; `malformed_error_code`
   * when it does not match /^[A-Za-z0-9_.:-]{1,64}$/) or ours ('timeout', 'http_503', 'non_json_body',
   * 'answer_too_large', 'redirect_refused', 'outbound_url_refused').
   */
  code: string;
  /** null for transport failures. */
  httpStatus: number | null;
  /**
   * Provider sub-code: 'AADSTS700082' (Microsoft error_codes[0]), Google error_subtype, Zoom numeric code, errno
   * of a transport failure, the rule that refused an outbound URL. Sanitised like `code`. The answer's free text
   * (error_description, message) is never kept.
   */
  subCode?: string;
  /** From Retry-After (seconds or HTTP date) or x-ratelimit-reset: finite, 0 to 2^31-1, not yet capped. */
  retryAfterSeconds?: number;
  /** True when the request may have reached the provider (timeout after send, reset, gateway 5xx). */
  ambiguous: boolean;
  /** The answer's JSON key set or content type, never values. */
  shape?: string;
}

export type RefreshResult =
  { ok: true; tokens: TokenSet; httpStatus: number } | { ok: false; failure: ProviderFailure };

export interface RawAnswer {
  status: number;
  headers: Headers;
  bodyText: string;
}

export interface RevokeRequest {
  endpoints: ProviderEndpoints;
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
  token: string;
  tokenTypeHint: 'refresh_token' | 'access_token';
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RevokeResult {
  ok: boolean;
  failure?: ProviderFailure;
}

export interface ProviderAdapter {
  readonly name: ProviderName;
  readonly catalogue: CatalogueEntry;
  /** Never throws for provider or transport failures: returns ok:false. */
  refresh(req: RefreshRequest): Promise<RefreshResult>;
  /** Pure: maps one raw HTTP answer of the token endpoint to a result. */
  classify(answer: RawAnswer): RefreshResult;
  revoke?(req: RevokeRequest): Promise<RevokeResult>;
  /** The authorization-code grant with its PKCE verifier; the answer is read like a refresh answer. */
  exchangeCode(req: CodeExchangeRequest): Promise<RefreshResult>;
}
