/**
 * Zoom: numeric codes (4702/4704 bad client id/secret, 4705 grant type, 4706 missing parameters, 4709 redirect,
 * 4717 app disabled → integration_error; 4711 refresh token invalid → reauth_required). The JSON shape is
 * unconfirmed, so the code is read from `code` (number or numeric string) or a numeric `error`.
 */
import { CATALOGUE } from '../catalogue';
import { type JsonObject, stringField } from '../core/answer';
import { type AdapterDeps, type ErrorFields, StandardAdapter } from '../core/standard-adapter';

export class ZoomAdapter extends StandardAdapter {
  constructor(deps: AdapterDeps = {}) {
    super(CATALOGUE.zoom, deps, {
      '4702': 'integration_error',
      '4704': 'integration_error',
      '4705': 'integration_error',
      '4706': 'integration_error',
      '4709': 'integration_error',
      '4717': 'integration_error',
      '4711': 'reauth_required',
    });
  }

  protected override readError(body: JsonObject): ErrorFields | undefined {
    const raw = body.code ?? body.error;
    const numeric =
      typeof raw === 'number' || (typeof raw === 'string' && /^\d+$/.test(raw)) ? String(raw) : undefined;
    const code = stringField(body, 'error') ?? numeric;
    if (code === undefined) return undefined;
    return { code, ...(numeric !== undefined ? { subCode: numeric } : {}) };
  }
}
