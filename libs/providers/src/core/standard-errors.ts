/** The standard `error` codes (RFC 6749 §5.2, OAuth 2.1 §3.2.4 and common extensions) and their class. */
import type { FailureClass } from '../types';

export type CodeTable = Readonly<Record<string, FailureClass>>;

export const STANDARD_CODES: CodeTable = {
  invalid_grant: 'reauth_required',
  // OIDC / Microsoft at the token endpoint: the user must sign in or consent again.
  interaction_required: 'reauth_required',
  consent_required: 'reauth_required',
  login_required: 'reauth_required',
  invalid_client: 'integration_error',
  unauthorized_client: 'integration_error',
  invalid_request: 'integration_error',
  invalid_scope: 'integration_error',
  unsupported_grant_type: 'integration_error',
  unsupported_token_type: 'integration_error',
  // At the token endpoint access_denied reportedly means bad client credentials (Atlassian, Auth0 401).
  access_denied: 'integration_error',
  temporarily_unavailable: 'transient',
  server_error: 'transient',
  too_many_requests: 'rate_limited',
  slow_down: 'rate_limited',
};

/** Own-key lookup, so codes such as "constructor" never hit Object.prototype. */
export function lookup(table: CodeTable, key: string | undefined): FailureClass | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Failures after which the provider may have done the work (a rotation may be lost). */
export const AMBIGUOUS_STATUSES: ReadonlySet<number> = new Set([500, 502, 504]);
export const AMBIGUOUS_CODES: ReadonlySet<string> = new Set([
  'server_error',
  'internal_error',
  'fatal_error',
  'request_timeout',
]);
