/**
 * Slack `oauth.v2.access`: errors are HTTP 200 `{"ok":false,"error":"…"}` with Slack's own codes; rotation
 * always; `auth.revoke` answers `{"ok":true,"revoked":true}` and needs no client authentication.
 */
import * as oauth from 'oauth4webapi';
import { CATALOGUE } from '../catalogue';
import { type JsonObject, parseBody, stringField } from '../core/answer';
import { type AdapterDeps, type ErrorFields, StandardAdapter } from '../core/standard-adapter';
import type { CodeTable } from '../core/standard-errors';
import type { RawAnswer, RevokeResult } from '../types';

const SLACK_CODES: CodeTable = {
  invalid_refresh_token: 'reauth_required',
  token_revoked: 'reauth_required',
  account_inactive: 'reauth_required',
  invalid_auth: 'reauth_required',
  invalid_client_id: 'integration_error',
  bad_client_secret: 'integration_error',
  invalid_grant_type: 'integration_error',
  invalid_arguments: 'integration_error',
  invalid_form_data: 'integration_error',
  invalid_arg_name: 'integration_error',
  invalid_post_type: 'integration_error',
  missing_post_type: 'integration_error',
  invalid_charset: 'integration_error',
  ratelimited: 'rate_limited',
  internal_error: 'transient',
  fatal_error: 'transient',
  request_timeout: 'transient',
  service_unavailable: 'transient',
};

export class SlackAdapter extends StandardAdapter {
  constructor(deps: AdapterDeps = {}) {
    super(CATALOGUE.slack, deps, SLACK_CODES);
  }

  protected override readError(body: JsonObject): ErrorFields | undefined {
    if (body.ok === false) return { code: stringField(body, 'error') ?? 'unknown_error' };
    return super.readError(body);
  }

  protected override classifyRevoke(answer: RawAnswer): RevokeResult {
    const body = parseBody(answer.headers, answer.bodyText);
    if (answer.status === 200 && body.kind === 'json' && body.value.ok === true) return { ok: true };
    const result = this.classify(answer);
    return result.ok
      ? { ok: false, failure: this.failure(answer, 'provider_error', 'unexpected_answer', undefined, body) }
      : result;
  }

  protected override revokeAuth(): oauth.ClientAuth {
    return oauth.None();
  }
}
