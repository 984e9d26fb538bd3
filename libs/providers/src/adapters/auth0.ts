/**
 * Auth0: 403 invalid_grant for a dead refresh token (standard table); 401 means bad client credentials unless
 * the body says invalid_grant; 429 carries x-ratelimit-reset (UNIX seconds), read by the shared Retry-After logic.
 */
import { CATALOGUE } from '../catalogue';
import { type AdapterDeps, StandardAdapter } from '../core/standard-adapter';
import type { RawAnswer, RefreshResult } from '../types';

export class Auth0Adapter extends StandardAdapter {
  constructor(deps: AdapterDeps = {}) {
    super(CATALOGUE.auth0, deps);
  }

  override classify(answer: RawAnswer): RefreshResult {
    const result = super.classify(answer);
    if (result.ok || answer.status !== 401 || result.failure.code === 'invalid_grant') return result;
    return { ok: false, failure: { ...result.failure, class: 'integration_error', ambiguous: false } };
  }
}
