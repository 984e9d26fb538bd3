/** Microsoft identity platform answers (providers.md §5): classify on error + error_codes only. */
import type { FailureClass } from '../types';
import { type FixtureRow, JSON_HEADERS, type ProviderFixtures } from './fixture';

const TRACE =
  'Trace ID: 0d1c3f6a-8e2b-4b7c-9a10-2f5e6d7c8b9a\r\nCorrelation ID: 5b6c7d8e-1f2a-4b3c-8d9e-0a1b2c3d4e5f';

function aad(error: string, code: number, text: string): Record<string, unknown> {
  return {
    error,
    error_description: `AADSTS${code}: ${text}\r\n${TRACE}\r\nTimestamp: 2026-11-20 10:00:00Z`,
    error_codes: [code],
    timestamp: '2026-11-20 10:00:00Z',
    trace_id: '0d1c3f6a-8e2b-4b7c-9a10-2f5e6d7c8b9a',
    correlation_id: '5b6c7d8e-1f2a-4b3c-8d9e-0a1b2c3d4e5f',
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

function row(
  name: string,
  error: string,
  code: number,
  text: string,
  klass: FailureClass,
  status = 400,
): FixtureRow {
  return {
    name,
    status,
    headers: JSON_HEADERS,
    body: aad(error, code, text),
    expect: { ok: false, class: klass, code: error, subCode: `AADSTS${code}` },
  };
}

export const microsoftFixtures: ProviderFixtures = {
  provider: 'microsoft',
  rows: [
    {
      name: 'success returns a new refresh token',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        token_type: 'Bearer',
        scope: 'https://graph.microsoft.com/User.Read offline_access',
        expires_in: 4763,
        ext_expires_in: 4763,
        access_token: 'eyJ0eXAiOiJKV1QiLCJub25jZSI6.x.y',
        refresh_token: '0.AXEA-new',
      },
      expect: { ok: true, tokens: { expiresIn: 4763, refreshToken: '0.AXEA-new', tokenType: 'Bearer' } },
    },
    row(
      'RT expired from inactivity',
      'invalid_grant',
      700082,
      'The refresh token has expired due to inactivity.',
      'reauth_required',
    ),
    row(
      'RT expired',
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired.',
      'reauth_required',
    ),
    row(
      'FreshTokenNeeded after password reset',
      'invalid_grant',
      50173,
      'The provided grant has expired.',
      'reauth_required',
    ),
    row(
      'sign-in frequency',
      'invalid_grant',
      70043,
      'The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.',
      'reauth_required',
    ),
    row(
      'MFA required',
      'interaction_required',
      50076,
      'Due to a configuration change made by your administrator, you must use multi-factor authentication.',
      'reauth_required',
    ),
    row(
      'consent missing',
      'invalid_grant',
      65001,
      'The user or administrator has not consented to use the application.',
      'reauth_required',
    ),
    row(
      'invalid client secret',
      'invalid_client',
      7000215,
      'Invalid client secret provided.',
      'integration_error',
      401,
    ),
    row(
      'client secret expired',
      'invalid_client',
      7000222,
      'The provided client secret keys are expired.',
      'integration_error',
      401,
    ),
    row(
      'app not found in tenant',
      'unauthorized_client',
      700016,
      'Application not found in the directory.',
      'integration_error',
    ),
    row('app disabled', 'unauthorized_client', 7000112, 'Application is disabled.', 'integration_error'),
    row(
      'loop detected: sub-code wins over error',
      'invalid_request',
      50196,
      'The server terminated an operation because it encountered a client request loop.',
      'rate_limited',
    ),
    row('tenant throttled', 'invalid_request', 90055, 'TenantThrottlingError', 'rate_limited'),
    row(
      'retryable: sub-code wins over invalid_request',
      'invalid_request',
      90033,
      'A transient error has occurred. Please try again.',
      'transient',
    ),
    row(
      'temporarily unavailable',
      'temporarily_unavailable',
      50033,
      'There was a transient error.',
      'transient',
    ),
    row(
      'unknown sub-code falls back to the error',
      'invalid_grant',
      99999,
      'Something new.',
      'reauth_required',
    ),
    {
      name: 'the description (trace IDs, timestamps) is never kept: codes only',
      status: 400,
      headers: JSON_HEADERS,
      body: aad(
        'invalid_grant',
        700082,
        'The refresh token has expired due to inactivity. The token was issued on 2026-08-01.',
      ),
      expect: {
        ok: false,
        class: 'reauth_required',
        code: 'invalid_grant',
        subCode: 'AADSTS700082',
      },
    },
  ],
};
