/**
 * Static facts per provider (sources and confidence in docs/providers.md). Every URL can be overridden per integration;
 * null means "tenant-specific or not offered: the integration must give it".
 */
import type { CatalogueEntry, ProviderEndpoints, ProviderName } from './types';

const DAY = 86_400;

export const CATALOGUE: Record<ProviderName, CatalogueEntry> = {
  oauth2: {
    provider: 'oauth2',
    displayName: 'OAuth 2.0 (standard)',
    tokenUrl: null,
    authorizeUrl: null,
    revokeUrl: null,
    clientAuth: 'client_secret_basic', // RFC 6749 §2.3.1 MUST; RFC 8414 default
    rotation: 'rotating',
    graceSeconds: 0,
    defaultAccessTokenTtlSeconds: 3600,
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: null,
    authorize: { offlineScopes: ['offline_access'], params: { prompt: 'consent' } }, // OIDC Core §11
    requestBody: 'form',
    notes: 'Unknown server: assume rotation without grace (never count on the old refresh token surviving).',
  },
  google: {
    provider: 'google',
    displayName: 'Google',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    revokeUrl: 'https://oauth2.googleapis.com/revoke',
    clientAuth: 'client_secret_post',
    rotation: 'none',
    graceSeconds: null,
    defaultAccessTokenTtlSeconds: 3599,
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: 183 * DAY,
    authorize: { offlineScopes: [], params: { access_type: 'offline', prompt: 'consent' } },
    requestBody: 'form',
    notes:
      'RTs of apps in "Testing" publishing status expire after 7 days; 100 RTs per account per client (oldest dies); ' +
      'Workspace session control gives invalid_grant/invalid_rapt on its schedule.',
  },
  slack: {
    provider: 'slack',
    displayName: 'Slack',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    authorizeUrl: 'https://slack.com/oauth/v2/authorize',
    revokeUrl: 'https://slack.com/api/auth.revoke',
    clientAuth: 'client_secret_basic',
    rotation: 'rotating',
    graceSeconds: 0,
    defaultAccessTokenTtlSeconds: 43_200,
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: null,
    authorize: { offlineScopes: [], params: {}, scopeSeparator: ',', userScopeParam: 'user_scope' },
    requestBody: 'form',
    notes:
      'Only with token rotation enabled. Errors are HTTP 200 {"ok":false}. auth.revoke revokes access tokens.',
  },
  auth0: {
    provider: 'auth0',
    displayName: 'Auth0',
    tokenUrl: null, // https://{tenant}/oauth/token
    authorizeUrl: null, // https://{tenant}/authorize
    revokeUrl: null, // https://{tenant}/oauth/revoke
    clientAuth: 'client_secret_post',
    rotation: 'rotating',
    graceSeconds: 0,
    defaultAccessTokenTtlSeconds: 86_400,
    refreshTokenLifetimeSeconds: 30 * DAY,
    refreshTokenIdleSeconds: 30 * DAY,
    authorize: { offlineScopes: ['offline_access'], params: {} }, // audience: the integration's authorize_params
    requestBody: 'form',
    notes:
      'Rotation and leeway are per application (leeway disabled by default); non-rotating apps exist. ' +
      'Lifetimes are the defaults with rotation.',
  },
  microsoft: {
    provider: 'microsoft',
    displayName: 'Microsoft identity platform',
    tokenUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    authorizeUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    revokeUrl: null,
    clientAuth: 'client_secret_post',
    rotation: 'rotating_old_valid',
    graceSeconds: null,
    defaultAccessTokenTtlSeconds: 3600,
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: 90 * DAY,
    authorize: { offlineScopes: ['offline_access'], params: {} },
    requestBody: 'form',
    notes: 'Single-tenant apps must override the URLs with their tenant ID. No RFC 7009 revocation.',
  },
  github: {
    provider: 'github',
    displayName: 'GitHub App (user tokens)',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    revokeUrl: null,
    clientAuth: 'client_secret_post',
    rotation: 'rotating',
    graceSeconds: 0,
    defaultAccessTokenTtlSeconds: 28_800,
    refreshTokenLifetimeSeconds: 183 * DAY,
    refreshTokenIdleSeconds: null,
    authorize: { offlineScopes: [], params: {} }, // an RT comes with expiring user tokens enabled on the app
    requestBody: 'form',
    notes:
      'Errors come as HTTP 200 with an "error" field. Revocation is DELETE /applications/{client_id}/token.',
  },
  hubspot: {
    provider: 'hubspot',
    displayName: 'HubSpot',
    tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
    authorizeUrl: 'https://app.hubspot.com/oauth/authorize',
    revokeUrl: null,
    clientAuth: 'client_secret_post',
    rotation: 'none',
    graceSeconds: null,
    defaultAccessTokenTtlSeconds: 1800,
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: null,
    authorize: { offlineScopes: [], params: {} },
    requestBody: 'form',
    notes:
      'v1 token endpoint deprecated on 2027-02-16 (v3 path to confirm). Errors {"status":"BAD_REFRESH_TOKEN"}.',
  },
  salesforce: {
    provider: 'salesforce',
    displayName: 'Salesforce',
    tokenUrl: 'https://login.salesforce.com/services/oauth2/token',
    authorizeUrl: 'https://login.salesforce.com/services/oauth2/authorize',
    revokeUrl: 'https://login.salesforce.com/services/oauth2/revoke',
    clientAuth: 'client_secret_post',
    rotation: 'none',
    graceSeconds: null,
    defaultAccessTokenTtlSeconds: 7200, // no expires_in: the org's session timeout (2 h default)
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: null,
    authorize: { offlineScopes: ['refresh_token'], params: {} },
    requestBody: 'form',
    notes:
      'Rotation is optional per connected app. 5 approvals per user per app. Sandboxes use test.salesforce.com.',
  },
  atlassian: {
    provider: 'atlassian',
    displayName: 'Atlassian',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    authorizeUrl: 'https://auth.atlassian.com/authorize',
    revokeUrl: null,
    clientAuth: 'client_secret_post',
    rotation: 'rotating',
    graceSeconds: 0,
    defaultAccessTokenTtlSeconds: 3600,
    refreshTokenLifetimeSeconds: 365 * DAY,
    refreshTokenIdleSeconds: 90 * DAY,
    authorize: {
      offlineScopes: ['offline_access'],
      params: { audience: 'api.atlassian.com', prompt: 'consent' },
    },
    requestBody: 'json',
    notes:
      'access_denied from the token endpoint reportedly means a bad client secret. Reuse window unconfirmed.',
  },
  zoom: {
    provider: 'zoom',
    displayName: 'Zoom',
    tokenUrl: 'https://zoom.us/oauth/token',
    authorizeUrl: 'https://zoom.us/oauth/authorize',
    revokeUrl: 'https://zoom.us/oauth/revoke',
    clientAuth: 'client_secret_basic',
    rotation: 'rotating',
    graceSeconds: 0,
    defaultAccessTokenTtlSeconds: 3600,
    refreshTokenLifetimeSeconds: 90 * DAY,
    refreshTokenIdleSeconds: null,
    authorize: { offlineScopes: [], params: {} },
    requestBody: 'form',
    notes: 'RT lifetime (90 days) and the error JSON shape are unconfirmed.',
  },
  dropbox: {
    provider: 'dropbox',
    displayName: 'Dropbox',
    tokenUrl: 'https://api.dropboxapi.com/oauth2/token',
    authorizeUrl: 'https://www.dropbox.com/oauth2/authorize',
    revokeUrl: null,
    clientAuth: 'client_secret_basic',
    rotation: 'none',
    graceSeconds: null,
    defaultAccessTokenTtlSeconds: 14_400,
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: null,
    authorize: { offlineScopes: [], params: { token_access_type: 'offline' } },
    requestBody: 'form',
    notes:
      'RT only with token_access_type=offline. Revocation is POST /2/auth/token/revoke with the access token.',
  },
  notion: {
    provider: 'notion',
    displayName: 'Notion',
    tokenUrl: 'https://api.notion.com/v1/oauth/token',
    authorizeUrl: 'https://api.notion.com/v1/oauth/authorize',
    revokeUrl: null,
    clientAuth: 'client_secret_basic',
    rotation: 'rotating',
    graceSeconds: 0,
    defaultAccessTokenTtlSeconds: 3600,
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: null,
    authorize: { offlineScopes: [], params: { owner: 'user' } },
    requestBody: 'json',
    notes: 'Refresh semantics unconfirmed; older integrations have no RT and non-expiring access tokens.',
  },
  xero: {
    provider: 'xero',
    displayName: 'Xero',
    tokenUrl: 'https://identity.xero.com/connect/token',
    authorizeUrl: 'https://login.xero.com/identity/connect/authorize',
    revokeUrl: 'https://identity.xero.com/connect/revocation',
    clientAuth: 'client_secret_basic',
    rotation: 'rotating_with_grace',
    graceSeconds: 1800,
    defaultAccessTokenTtlSeconds: 1800,
    refreshTokenLifetimeSeconds: null,
    refreshTokenIdleSeconds: 60 * DAY,
    authorize: { offlineScopes: ['offline_access'], params: {} },
    requestBody: 'form',
    notes: 'Retry with the old RT is allowed for 30 minutes if the answer was lost.',
  },
  intuit: {
    provider: 'intuit',
    displayName: 'Intuit QuickBooks',
    tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
    revokeUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
    clientAuth: 'client_secret_basic',
    rotation: 'rotating',
    graceSeconds: 0,
    defaultAccessTokenTtlSeconds: 3600,
    refreshTokenLifetimeSeconds: 5 * 365 * DAY,
    refreshTokenIdleSeconds: 100 * DAY,
    authorize: { offlineScopes: [], params: {} },
    requestBody: 'form',
    notes:
      'The RT value changes about every 24 h: always store the latest. Answers carry x_refresh_token_expires_in.',
  },
};

type EndpointOverrides = {
  tokenUrl?: string | null;
  authorizeUrl?: string | null;
  revokeUrl?: string | null;
};

function pick(override: string | null | undefined, fallback: string | null, what: string): string | null {
  const value = override ?? fallback;
  if (value === null || value === '') return null;
  if (!URL.canParse(value)) throw new Error(`${what} is not a valid URL`);
  return value;
}

/** Merges per-integration overrides (null/undefined = use the catalogue) over the catalogue. Throws without a token URL. */
export function resolveEndpoints(entry: CatalogueEntry, overrides: EndpointOverrides): ProviderEndpoints {
  const tokenUrl = pick(overrides.tokenUrl, entry.tokenUrl, 'token URL');
  if (tokenUrl === null) throw new Error(`provider ${entry.provider} needs a token URL for this integration`);
  return {
    tokenUrl,
    authorizeUrl: pick(overrides.authorizeUrl, entry.authorizeUrl, 'authorize URL'),
    revokeUrl: pick(overrides.revokeUrl, entry.revokeUrl, 'revoke URL'),
  };
}
