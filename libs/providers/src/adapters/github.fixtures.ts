/** GitHub App user-token answers (providers.md §5): errors are HTTP 200 with an `error` field. */
import { epochIn, HTML_HEADERS, JSON_HEADERS, type ProviderFixtures } from './fixture';

const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

export const githubFixtures: ProviderFixtures = {
  provider: 'github',
  rows: [
    {
      name: 'refresh success',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        access_token: 'ghu_16C7e42F292c6912E7710c838347Ae178B4a',
        expires_in: 28800,
        refresh_token: 'ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498',
        refresh_token_expires_in: 15811200,
        scope: '',
        token_type: 'bearer',
      },
      expect: {
        ok: true,
        tokens: {
          accessToken: 'ghu_16C7e42F292c6912E7710c838347Ae178B4a',
          expiresIn: 28800,
          refreshTokenExpiresIn: 15811200,
          scopes: [],
          tokenType: 'bearer',
        },
      },
    },
    {
      name: 'HTTP 200 bad_refresh_token',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        error: 'bad_refresh_token',
        error_description: 'The refresh token passed is incorrect or expired.',
        error_uri:
          'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors',
      },
      expect: { ok: false, class: 'reauth_required', code: 'bad_refresh_token', httpStatus: 200 },
    },
    {
      name: 'HTTP 200 incorrect_client_credentials',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        error: 'incorrect_client_credentials',
        error_description: 'The client_id and/or client_secret passed are incorrect.',
      },
      expect: { ok: false, class: 'integration_error', code: 'incorrect_client_credentials' },
    },
    {
      name: 'HTTP 200 unsupported_grant_type (token expiry disabled for the app)',
      status: 200,
      headers: JSON_HEADERS,
      body: { error: 'unsupported_grant_type', error_description: 'The grant type is not supported.' },
      expect: { ok: false, class: 'integration_error', code: 'unsupported_grant_type' },
    },
    {
      name: 'form-urlencoded error (no Accept header)',
      status: 200,
      headers: FORM,
      body: 'error=bad_refresh_token&error_description=The+refresh+token+passed+is+incorrect+or+expired.',
      expect: {
        ok: false,
        class: 'reauth_required',
        code: 'bad_refresh_token',
      },
    },
    {
      name: 'form-urlencoded success',
      status: 200,
      headers: FORM,
      body: 'access_token=ghu_abc&expires_in=28800&refresh_token=ghr_def&refresh_token_expires_in=15811200&scope=&token_type=bearer',
      expect: { ok: true, tokens: { accessToken: 'ghu_abc', expiresIn: 28800, refreshToken: 'ghr_def' } },
    },
    {
      name: '429 with x-ratelimit-reset',
      status: 429,
      headers: { ...JSON_HEADERS, 'x-ratelimit-reset': epochIn(60) },
      body: { message: 'API rate limit exceeded' },
      expect: { ok: false, class: 'rate_limited', code: 'http_429', retryAfterSeconds: 60 },
    },
    {
      name: '502 unicorn page',
      status: 502,
      headers: HTML_HEADERS,
      body: '<html><body>No server is currently available to service your request.</body></html>',
      expect: { ok: false, class: 'transient', code: 'http_502', ambiguous: true },
    },
    {
      name: '404 JSON without error',
      status: 404,
      headers: JSON_HEADERS,
      body: { message: 'Not Found', documentation_url: 'https://docs.github.com' },
      expect: {
        ok: false,
        class: 'provider_error',
        code: 'http_404',
        shape: 'json{documentation_url,message}',
      },
    },
  ],
};
