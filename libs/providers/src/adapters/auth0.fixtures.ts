/** Auth0 `/oauth/token` answers (docs/providers.md, Auth0). */
import { epochIn, HTML_HEADERS, JSON_HEADERS, type ProviderFixtures } from './fixture';

export const auth0Fixtures: ProviderFixtures = {
  provider: 'auth0',
  rows: [
    {
      name: 'rotating refresh success',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        access_token: 'eyJz93a.x.y',
        refresh_token: 'v1.MjFhZ-new',
        id_token: 'eyJ.a.b',
        scope: 'openid profile offline_access',
        expires_in: 86400,
        token_type: 'Bearer',
      },
      expect: { ok: true, tokens: { refreshToken: 'v1.MjFhZ-new', expiresIn: 86400, tokenType: 'Bearer' } },
    },
    {
      name: '403 unknown or invalid refresh token',
      status: 403,
      headers: JSON_HEADERS,
      body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' },
      expect: { ok: false, class: 'reauth_required', code: 'invalid_grant', httpStatus: 403 },
    },
    {
      name: '401 access_denied Unauthorized (bad client credentials)',
      status: 401,
      headers: JSON_HEADERS,
      body: { error: 'access_denied', error_description: 'Unauthorized' },
      expect: { ok: false, class: 'integration_error', code: 'access_denied' },
    },
    {
      name: '401 invalid_client',
      status: 401,
      headers: JSON_HEADERS,
      body: { error: 'invalid_client', error_description: 'Client authentication failed' },
      expect: { ok: false, class: 'integration_error', code: 'invalid_client' },
    },
    {
      name: '401 with invalid_grant stays re-auth',
      status: 401,
      headers: JSON_HEADERS,
      body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' },
      expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
    },
    {
      name: '401 with an unknown code is still the client',
      status: 401,
      headers: JSON_HEADERS,
      body: { error: 'unauthorized', error_description: 'Unauthorized' },
      expect: { ok: false, class: 'integration_error', code: 'unauthorized' },
    },
    {
      name: '401 without a body is still the client',
      status: 401,
      headers: HTML_HEADERS,
      body: 'Unauthorized',
      expect: { ok: false, class: 'integration_error', code: 'non_json_body' },
    },
    {
      name: '429 with x-ratelimit-reset',
      status: 429,
      headers: {
        ...JSON_HEADERS,
        'x-ratelimit-limit': '100',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': epochIn(30),
      },
      body: { error: 'too_many_requests', error_description: 'Global limit has been reached' },
      expect: { ok: false, class: 'rate_limited', code: 'too_many_requests', retryAfterSeconds: 30 },
    },
    {
      name: '400 invalid_request',
      status: 400,
      headers: JSON_HEADERS,
      body: { error: 'invalid_request', error_description: 'Missing required parameter: refresh_token' },
      expect: { ok: false, class: 'integration_error', code: 'invalid_request' },
    },
    {
      name: '503',
      status: 503,
      headers: JSON_HEADERS,
      body: { error: 'temporarily_unavailable' },
      expect: { ok: false, class: 'transient', code: 'temporarily_unavailable' },
    },
  ],
};
