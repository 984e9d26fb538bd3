/** Slack `oauth.v2.access` answers (docs/providers.md, Slack): errors are HTTP 200 with ok:false. */
import { HTML_HEADERS, JSON_HEADERS, type FixtureRow, type ProviderFixtures } from './fixture';
import type { FailureClass } from '../types';

function okFalse(error: string, klass: FailureClass, ambiguous = false): FixtureRow {
  return {
    name: `ok:false ${error}`,
    status: 200,
    headers: JSON_HEADERS,
    body: { ok: false, error },
    expect: { ok: false, class: klass, code: error, ambiguous },
  };
}

export const slackFixtures: ProviderFixtures = {
  provider: 'slack',
  rows: [
    {
      name: 'bot token refresh success',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        ok: true,
        app_id: 'A0KRD7HC3',
        authed_user: { id: 'U1234' },
        scope: 'chat:write,channels:read',
        token_type: 'bot',
        access_token: 'xoxe.xoxb-1-MS0yLTExMQ',
        bot_user_id: 'U0KRQLJ9H',
        refresh_token: 'xoxe-1-My0xLTEx',
        expires_in: 43200,
        team: { id: 'T9TK3CUKW', name: 'Slack Softball Team' },
        enterprise: null,
        is_enterprise_install: false,
      },
      expect: {
        ok: true,
        tokens: {
          accessToken: 'xoxe.xoxb-1-MS0yLTExMQ',
          tokenType: 'bot',
          expiresIn: 43200,
          refreshToken: 'xoxe-1-My0xLTEx',
          scopes: ['chat:write', 'channels:read'],
        },
      },
    },
    okFalse('invalid_refresh_token', 'reauth_required'),
    okFalse('token_revoked', 'reauth_required'),
    okFalse('account_inactive', 'reauth_required'),
    okFalse('invalid_auth', 'reauth_required'),
    okFalse('invalid_client_id', 'integration_error'),
    okFalse('bad_client_secret', 'integration_error'),
    okFalse('invalid_grant_type', 'integration_error'),
    okFalse('invalid_arguments', 'integration_error'),
    okFalse('ratelimited', 'rate_limited'),
    okFalse('internal_error', 'transient', true),
    okFalse('fatal_error', 'transient', true),
    okFalse('request_timeout', 'transient', true),
    okFalse('service_unavailable', 'transient'),
    {
      name: 'HTTP 429 ratelimited with Retry-After',
      status: 429,
      headers: { ...JSON_HEADERS, 'retry-after': '30' },
      body: { ok: false, error: 'ratelimited' },
      expect: { ok: false, class: 'rate_limited', code: 'ratelimited', retryAfterSeconds: 30 },
    },
    {
      name: 'unknown Slack error',
      status: 200,
      headers: JSON_HEADERS,
      body: { ok: false, error: 'team_added_to_org', warning: 'superfluous_charset' },
      expect: {
        ok: false,
        class: 'provider_error',
        code: 'team_added_to_org',
        shape: 'json{error,ok,warning}',
      },
    },
    {
      name: 'ok:false without error',
      status: 200,
      headers: JSON_HEADERS,
      body: { ok: false },
      expect: { ok: false, class: 'provider_error', code: 'unknown_error' },
    },
    {
      name: 'ok:true without access_token',
      status: 200,
      headers: JSON_HEADERS,
      body: { ok: true, app_id: 'A1' },
      expect: { ok: false, class: 'provider_error', code: 'missing_access_token', shape: 'json{app_id,ok}' },
    },
    {
      name: '503 HTML',
      status: 503,
      headers: HTML_HEADERS,
      body: '<html>down</html>',
      expect: { ok: false, class: 'transient', code: 'http_503' },
    },
  ],
};
