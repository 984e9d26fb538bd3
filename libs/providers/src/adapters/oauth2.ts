/** `oauth2`: any RFC 6749 server. The standard adapter with the generic catalogue entry. */
import { CATALOGUE } from '../catalogue';
import { type AdapterDeps, StandardAdapter } from '../core/standard-adapter';

export class OAuth2Adapter extends StandardAdapter {
  constructor(deps: AdapterDeps = {}) {
    super(CATALOGUE.oauth2, deps);
  }
}
