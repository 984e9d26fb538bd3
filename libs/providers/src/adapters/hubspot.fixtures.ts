/** HubSpot answers (providers.md §5): non-OAuth error bodies keyed by `status`. */
import { JSON_HEADERS, type ProviderFixtures } from './fixture';

export const hubspotFixtures: ProviderFixtures = {
  provider: 'hubspot',
  rows: [
    {
      name: 'refresh success (same refresh token echoed)',
      status: 200,
      headers: JSON_HEADERS,
      body: {
        token_type: 'bearer',
        refresh_token: '6f18f21e-a743-4509-b7fd-1a5e632fffa1',
        access_token: 'CN2zlYnmLBICAQIYgZXFLyCWp1Yw',
        expires_in: 1800,
      },
      expect: { ok: true, tokens: { expiresIn: 1800, refreshToken: '6f18f21e-a743-4509-b7fd-1a5e632fffa1' } },
    },
    {
      name: 'BAD_REFRESH_TOKEN',
      status: 400,
      headers: JSON_HEADERS,
      body: {
        status: 'BAD_REFRESH_TOKEN',
        message: 'missing or invalid refresh token',
        correlationId: 'a2b4c6d8-1111-2222-3333-444455556666',
        requestId: 'd3e5f7a9b1c3',
      },
      expect: {
        ok: false,
        class: 'reauth_required',
        code: 'BAD_REFRESH_TOKEN',
      },
    },
    {
      name: 'BAD_CLIENT_ID',
      status: 400,
      headers: JSON_HEADERS,
      body: { status: 'BAD_CLIENT_ID', message: 'missing or unknown client id', correlationId: 'x' },
      expect: { ok: false, class: 'integration_error', code: 'BAD_CLIENT_ID' },
    },
    {
      name: 'BAD_CLIENT_SECRET',
      status: 400,
      headers: JSON_HEADERS,
      body: { status: 'BAD_CLIENT_SECRET', message: 'client secret is incorrect', correlationId: 'x' },
      expect: { ok: false, class: 'integration_error', code: 'BAD_CLIENT_SECRET' },
    },
    {
      name: 'newer shape: status error + category',
      status: 400,
      headers: JSON_HEADERS,
      body: {
        status: 'error',
        message: 'Invalid input JSON on line 1',
        correlationId: 'c0ffee00-0000-4000-8000-000000000000',
        category: 'VALIDATION_ERROR',
      },
      expect: { ok: false, class: 'integration_error', code: 'VALIDATION_ERROR' },
    },
    {
      name: '429 secondly limit',
      status: 429,
      headers: { ...JSON_HEADERS, 'retry-after': '1' },
      body: {
        status: 'error',
        message: 'You have reached your secondly limit.',
        errorType: 'RATE_LIMIT',
        correlationId: 'x',
        policyName: 'SECONDLY',
      },
      expect: { ok: false, class: 'rate_limited', code: 'http_429', retryAfterSeconds: 1 },
    },
    {
      name: 'category RATE_LIMITS on a 400',
      status: 400,
      headers: JSON_HEADERS,
      body: { status: 'error', message: 'limit', category: 'RATE_LIMITS' },
      expect: { ok: false, class: 'rate_limited', code: 'RATE_LIMITS' },
    },
    {
      name: 'standard invalid_grant (v3 endpoints)',
      status: 400,
      headers: JSON_HEADERS,
      body: { error: 'invalid_grant', error_description: 'refresh token is invalid' },
      expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
    },
    {
      name: 'unknown status code',
      status: 400,
      headers: JSON_HEADERS,
      body: { status: 'MISMATCH_REDIRECT_URI_AUTH_CODE', message: 'x' },
      expect: {
        ok: false,
        class: 'provider_error',
        code: 'MISMATCH_REDIRECT_URI_AUTH_CODE',
        shape: 'json{message,status}',
      },
    },
    {
      name: '500',
      status: 500,
      headers: JSON_HEADERS,
      body: { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' },
      expect: { ok: false, class: 'transient', code: 'INTERNAL_ERROR', ambiguous: true },
    },
  ],
};
