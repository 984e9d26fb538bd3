/**
 * Google: no rotation (refreshToken null when the answer has none), `error_subtype` (invalid_rapt,
 * rapt_required) as sub-code, `deleted_client` is client-wide, and a 403 HTML page is Google's rate limiting.
 */
import { CATALOGUE } from '../catalogue';
import { type JsonObject, type ParsedBody, stringField } from '../core/answer';
import { type AdapterDeps, type ErrorFields, StandardAdapter } from '../core/standard-adapter';
import type { RawAnswer, RefreshResult } from '../types';

export class GoogleAdapter extends StandardAdapter {
  constructor(deps: AdapterDeps = {}) {
    super(CATALOGUE.google, deps, { deleted_client: 'integration_error' });
  }

  protected override readError(body: JsonObject): ErrorFields | undefined {
    const fields = super.readError(body);
    const subtype = stringField(body, 'error_subtype');
    return fields && subtype ? { ...fields, subCode: subtype } : fields;
  }

  protected override classifyNonJson(answer: RawAnswer, body: ParsedBody): RefreshResult {
    if (answer.status !== 403) return super.classifyNonJson(answer, body);
    return { ok: false, failure: this.failure(answer, 'rate_limited', 'http_403', undefined, body) };
  }
}
