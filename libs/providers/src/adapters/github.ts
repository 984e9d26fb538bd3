/**
 * GitHub App user tokens: errors come as HTTP 200 with an `error` field (handled by the shared rule "an error
 * field wins over the status"). oauth4webapi always sends `Accept: application/json`; a form-urlencoded answer
 * is parsed too.
 */
import { CATALOGUE } from '../catalogue';
import { type AdapterDeps, StandardAdapter } from '../core/standard-adapter';

export class GitHubAdapter extends StandardAdapter {
  constructor(deps: AdapterDeps = {}) {
    super(CATALOGUE.github, deps, {
      bad_refresh_token: 'reauth_required',
      incorrect_client_credentials: 'integration_error',
      bad_verification_code: 'integration_error',
    });
  }
}
