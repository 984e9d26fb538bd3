/**
 * Microsoft identity platform: classify on `error` and `error_codes` (as sub-code `AADSTS<n>`), never on
 * `error_description`. A new refresh token comes with every answer; the old one is not revoked.
 */
import { CATALOGUE } from '../catalogue';
import type { JsonObject } from '../core/answer';
import { type AdapterDeps, type ErrorFields, StandardAdapter } from '../core/standard-adapter';
import type { CodeTable } from '../core/standard-errors';
import type { FailureClass } from '../types';

function table(codes: number[], klass: FailureClass): CodeTable {
  return Object.fromEntries(codes.map((n) => [`AADSTS${n}`, klass]));
}

const MICROSOFT_CODES: CodeTable = {
  // expired/revoked RT, sign-in frequency, SPA chain expiry, MFA, consent, invalid grant
  ...table([70008, 700082, 50173, 70043, 700084, 50076, 50079, 50078, 65001, 70000], 'reauth_required'),
  // invalid/expired secret, app not in tenant, app disabled, unauthorized client
  ...table([7000215, 7000222, 700016, 7000112, 70001], 'integration_error'),
  ...table([50196, 90055], 'rate_limited'),
  ...table([50033, 90006, 90033, 90090, 50087], 'transient'),
};

export class MicrosoftAdapter extends StandardAdapter {
  constructor(deps: AdapterDeps = {}) {
    super(CATALOGUE.microsoft, deps, MICROSOFT_CODES);
  }

  protected override readError(body: JsonObject): ErrorFields | undefined {
    const fields = super.readError(body);
    const first: unknown = Array.isArray(body.error_codes) ? body.error_codes[0] : undefined;
    return fields && typeof first === 'number' ? { ...fields, subCode: `AADSTS${first}` } : fields;
  }
}
