/**
 * HubSpot: non-OAuth error bodies `{"status":"BAD_REFRESH_TOKEN","message":…}`; newer APIs answer
 * `{"status":"error","category":…,"message":…}`. Standard `error` bodies are still understood.
 */
import { CATALOGUE } from '../catalogue';
import { type JsonObject, stringField } from '../core/answer';
import { type AdapterDeps, type ErrorFields, StandardAdapter } from '../core/standard-adapter';

export class HubSpotAdapter extends StandardAdapter {
  constructor(deps: AdapterDeps = {}) {
    super(CATALOGUE.hubspot, deps, {
      BAD_REFRESH_TOKEN: 'reauth_required',
      BAD_CLIENT_ID: 'integration_error',
      BAD_CLIENT_SECRET: 'integration_error',
      BAD_GRANT_TYPE: 'integration_error',
      VALIDATION_ERROR: 'integration_error',
      RATE_LIMITS: 'rate_limited',
    });
  }

  protected override readError(body: JsonObject): ErrorFields | undefined {
    const standard = super.readError(body);
    if (standard) return standard;
    const status = stringField(body, 'status');
    const code = status !== undefined && status !== 'error' ? status : stringField(body, 'category');
    if (code === undefined) return undefined;
    return { code };
  }
}
