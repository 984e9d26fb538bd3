/** Google answers (providers.md §2). */
import { HTML_HEADERS, JSON_HEADERS, type ProviderFixtures } from './fixture';

const AUTOMATED_QUERIES =
  "<html><head><title>Sorry...</title></head><body><h1>We're sorry...</h1><p>... but your computer or network " +
  "may be sending automated queries. To protect our users, we can't process your request right now.</p></body></html>";

export const googleFixtures: ProviderFixtures = {
  provider: 'google',
  rows: [
    {
      name: 'refresh success, no new refresh token',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        access_token: 'ya29.a0AfB_byC-example',
        expires_in: 3599,
        scope: 'https://www.googleapis.com/auth/drive.readonly openid',
        token_type: 'Bearer',
        id_token: 'eyJhbGciOiJSUzI1NiJ9.e30.sig',
      },
      expect: {
        ok: true,
        tokens: {
          accessToken: 'ya29.a0AfB_byC-example',
          expiresIn: 3599,
          refreshToken: null,
          scopes: ['https://www.googleapis.com/auth/drive.readonly', 'openid'],
        },
      },
    },
    {
      name: 'success that does carry a refresh token (stored)',
      status: 200,
      headers: JSON_HEADERS,
      body: { access_token: 'ya29.b', expires_in: 3599, refresh_token: '1//0new', token_type: 'Bearer' },
      expect: { ok: true, tokens: { refreshToken: '1//0new' } },
    },
    {
      name: 'time-limited access carries refresh_token_expires_in',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        access_token: 'ya29.c',
        expires_in: 3599,
        refresh_token_expires_in: 604799,
        token_type: 'Bearer',
      },
      expect: { ok: true, tokens: { refreshTokenExpiresIn: 604799 } },
    },
    {
      name: 'expired or revoked',
      status: 400,
      headers: JSON_HEADERS,
      body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
      expect: {
        ok: false,
        class: 'reauth_required',
        code: 'invalid_grant',
      },
    },
    {
      name: 'Workspace session control: invalid_rapt',
      status: 400,
      headers: JSON_HEADERS,
      body: {
        error: 'invalid_grant',
        error_description: 'reauth related error (invalid_rapt)',
        error_uri: 'https://support.google.com/a/answer/9368756',
        error_subtype: 'invalid_rapt',
      },
      expect: { ok: false, class: 'reauth_required', code: 'invalid_grant', subCode: 'invalid_rapt' },
    },
    {
      name: 'Workspace session control: rapt_required',
      status: 400,
      headers: JSON_HEADERS,
      body: {
        error: 'invalid_grant',
        error_description: 'reauth related error (rapt_required)',
        error_subtype: 'rapt_required',
      },
      expect: { ok: false, class: 'reauth_required', code: 'invalid_grant', subCode: 'rapt_required' },
    },
    {
      name: 'malformed refresh token',
      status: 400,
      headers: JSON_HEADERS,
      body: { error: 'invalid_grant', error_description: 'Bad Request' },
      expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
    },
    {
      name: 'OAuth client deleted',
      status: 401,
      headers: JSON_HEADERS,
      body: { error: 'deleted_client', error_description: 'The OAuth client was deleted.' },
      expect: { ok: false, class: 'integration_error', code: 'deleted_client' },
    },
    {
      name: 'wrong client secret',
      status: 401,
      headers: JSON_HEADERS,
      body: { error: 'invalid_client', error_description: 'Unauthorized' },
      expect: { ok: false, class: 'integration_error', code: 'invalid_client' },
    },
    {
      name: 'refresh token of another client',
      status: 400,
      headers: JSON_HEADERS,
      body: { error: 'unauthorized_client', error_description: 'Unauthorized' },
      expect: { ok: false, class: 'integration_error', code: 'unauthorized_client' },
    },
    {
      name: 'wider scope requested',
      status: 400,
      headers: JSON_HEADERS,
      body: { error: 'invalid_scope', error_description: 'Some requested scopes were invalid.' },
      expect: { ok: false, class: 'integration_error', code: 'invalid_scope' },
    },
    {
      name: '403 HTML "automated queries" page is rate limiting',
      status: 403,
      headers: HTML_HEADERS,
      body: AUTOMATED_QUERIES,
      expect: {
        ok: false,
        class: 'rate_limited',
        code: 'http_403',
        shape: `text/html;len=${AUTOMATED_QUERIES.length}`,
      },
    },
    {
      name: '429',
      status: 429,
      headers: { ...JSON_HEADERS, 'retry-after': '60' },
      body: { error: 'rate_limit_exceeded' },
      expect: { ok: false, class: 'rate_limited', code: 'rate_limit_exceeded', retryAfterSeconds: 60 },
    },
    {
      name: '503 HTML',
      status: 503,
      headers: HTML_HEADERS,
      body: '<html><body>Error 503 (Service Unavailable)</body></html>',
      expect: { ok: false, class: 'transient', code: 'http_503' },
    },
    {
      name: '400 HTML is transient, not re-auth',
      status: 400,
      headers: HTML_HEADERS,
      body: '<html><body>Error 400 (Bad Request)!!1</body></html>',
      expect: { ok: false, class: 'transient', code: 'non_json_body' },
    },
  ],
};
