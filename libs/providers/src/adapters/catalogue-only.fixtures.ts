/** Answers of the providers without their own adapter quirks beyond a code table (providers.md §5). */
import { JSON_HEADERS, type ProviderFixtures } from './fixture';

const INVALID_RT = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };

export const catalogueOnlyFixtures: ProviderFixtures[] = [
  {
    provider: 'atlassian',
    rows: [
      {
        name: 'rotating success',
        status: 200,
        headers: JSON_HEADERS,
        body: {
          access_token: 'eyJ.a.b',
          refresh_token: 'eyJ.new',
          expires_in: 3600,
          scope: 'read:jira-work offline_access',
          token_type: 'Bearer',
        },
        expect: {
          ok: true,
          tokens: { refreshToken: 'eyJ.new', scopes: ['read:jira-work', 'offline_access'] },
        },
      },
      {
        name: '403 invalid_grant',
        status: 403,
        headers: JSON_HEADERS,
        body: INVALID_RT,
        expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
      },
      {
        name: 'access_denied is the client, not the user',
        status: 403,
        headers: JSON_HEADERS,
        body: { error: 'access_denied', error_description: 'Unauthorized' },
        expect: { ok: false, class: 'integration_error', code: 'access_denied' },
      },
    ],
  },
  {
    provider: 'zoom',
    rows: [
      {
        name: 'rotating success',
        status: 200,
        headers: JSON_HEADERS,
        body: {
          access_token: 'eyJ.z',
          token_type: 'bearer',
          refresh_token: 'eyJ.zr',
          expires_in: 3599,
          scope: 'meeting:read',
        },
        expect: { ok: true, tokens: { refreshToken: 'eyJ.zr', expiresIn: 3599 } },
      },
      {
        name: 'numeric 4711 refresh token invalid',
        status: 400,
        headers: JSON_HEADERS,
        body: { code: 4711, reason: 'Refresh token invalid', error: 'invalid_request' },
        expect: {
          ok: false,
          class: 'reauth_required',
          code: 'invalid_request',
          subCode: '4711',
        },
      },
      {
        name: 'numeric 4702 invalid client',
        status: 401,
        headers: JSON_HEADERS,
        body: { code: '4702', reason: 'Invalid client_id or client_secret' },
        expect: { ok: false, class: 'integration_error', code: '4702', subCode: '4702' },
      },
      {
        name: 'numeric 4717 app disabled',
        status: 400,
        headers: JSON_HEADERS,
        body: { code: 4717, reason: 'The app has been disabled' },
        expect: { ok: false, class: 'integration_error', code: '4717' },
      },
      {
        name: 'reason + standard error',
        status: 401,
        headers: JSON_HEADERS,
        body: { reason: 'Invalid client_id or client_secret', error: 'invalid_client' },
        expect: { ok: false, class: 'integration_error', code: 'invalid_client' },
      },
      {
        name: 'standard invalid_grant',
        status: 400,
        headers: JSON_HEADERS,
        body: { reason: 'Invalid Token!', error: 'invalid_grant' },
        expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
      },
    ],
  },
  {
    provider: 'salesforce',
    rows: [
      {
        name: 'success without expires_in or refresh_token',
        status: 200,
        headers: JSON_HEADERS,
        body: {
          access_token: '00Dxx0000001gPL!AR8AQJXg',
          signature: 'sig',
          scope: 'refresh_token api',
          instance_url: 'https://na1.salesforce.com',
          id: 'https://login.salesforce.com/id/00Dx/005x',
          token_type: 'Bearer',
          issued_at: '1700000000000',
        },
        expect: {
          ok: true,
          tokens: { expiresIn: null, refreshToken: null, scopes: ['refresh_token', 'api'] },
        },
      },
      {
        name: 'expired access/refresh token',
        status: 400,
        headers: JSON_HEADERS,
        body: { error: 'invalid_grant', error_description: 'expired access/refresh token' },
        expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
      },
    ],
  },
  {
    provider: 'dropbox',
    rows: [
      {
        name: 'success',
        status: 200,
        headers: JSON_HEADERS,
        body: { access_token: 'sl.u.AbX', expires_in: 14400, token_type: 'bearer' },
        expect: { ok: true, tokens: { expiresIn: 14400, refreshToken: null } },
      },
      {
        name: 'malformed / revoked refresh token',
        status: 400,
        headers: JSON_HEADERS,
        body: { error: 'invalid_grant', error_description: 'refresh token is malformed' },
        expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
      },
    ],
  },
  {
    provider: 'xero',
    rows: [
      {
        name: 'invalid_grant',
        status: 400,
        headers: JSON_HEADERS,
        body: { error: 'invalid_grant' },
        expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
      },
    ],
  },
  {
    provider: 'intuit',
    rows: [
      {
        name: 'success with x_refresh_token_expires_in',
        status: 200,
        headers: JSON_HEADERS,
        body: {
          token_type: 'bearer',
          expires_in: 3600,
          refresh_token: 'AB11700000000new',
          x_refresh_token_expires_in: 8726400,
          access_token: 'eyJlbmMiOi',
        },
        expect: { ok: true, tokens: { refreshToken: 'AB11700000000new', refreshTokenExpiresIn: 8726400 } },
      },
      {
        name: 'invalid_grant',
        status: 400,
        headers: JSON_HEADERS,
        body: { error: 'invalid_grant' },
        expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
      },
    ],
  },
  {
    provider: 'notion',
    rows: [
      {
        name: 'success without refresh token',
        status: 200,
        headers: JSON_HEADERS,
        body: { access_token: 'secret_abc', token_type: 'bearer', bot_id: 'b1', workspace_id: 'w1' },
        expect: { ok: true, tokens: { refreshToken: null, expiresIn: null } },
      },
      {
        name: 'invalid_grant',
        status: 400,
        headers: JSON_HEADERS,
        body: { error: 'invalid_grant', error_description: 'Invalid refresh token.' },
        expect: { ok: false, class: 'reauth_required', code: 'invalid_grant' },
      },
    ],
  },
];
