import type { IntegrationEntity } from '@vault/persistence';
import { VaultError } from '../errors/vault-error';

/** The settings an integration event records, by their API name. The client secret is never among them. */
const RECORDED = {
  client_id: 'clientId',
  token_url: 'tokenUrl',
  authorize_url: 'authorizeUrl',
  revoke_url: 'revokeUrl',
  scopes: 'scopes',
  client_auth: 'clientAuth',
  refresh_margin_seconds: 'refreshMarginSeconds',
  request_timeout_ms: 'requestTimeoutMs',
  allowed_return_urls: 'allowedReturnUrls',
  authorize_params: 'authorizeParams',
} as const satisfies Record<string, keyof IntegrationEntity>;

type Settings = Partial<Pick<IntegrationEntity, (typeof RECORDED)[keyof typeof RECORDED]>>;

/** What an integration looked like at creation or deletion, for its event (never the secret). */
export function snapshot(i: IntegrationEntity): Record<string, unknown> {
  const out: Record<string, unknown> = { provider: i.provider };
  for (const [name, prop] of Object.entries(RECORDED)) out[name] = i[prop];
  return out;
}

/**
 * What a change does, for its event: `{ fields: [...], <field>: { old, new }, client_secret: 'rotated' }`.
 * Only settings whose value actually changes are listed; `null` when nothing changes.
 */
export function describeChange(
  current: IntegrationEntity,
  next: Settings,
  secretRotated: boolean,
): Record<string, unknown> | null {
  const fields: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(RECORDED)) {
    if (!(prop in next) || next[prop] === undefined) continue;
    if (JSON.stringify(next[prop]) === JSON.stringify(current[prop])) continue;
    fields.push(name);
    out[name] = { old: current[prop], new: next[prop] };
  }
  if (secretRotated) {
    fields.push('client_secret');
    out.client_secret = 'rotated';
  }
  return fields.length ? { fields, ...out } : null;
}

/**
 * Where the client secret is sent (the token and revocation endpoints) changes only together with the secret:
 * otherwise whoever holds `integrations:write` could point the token URL at their own server and receive the
 * client secret, and every tenant's refresh token, with the next refresh. With the rule, a new URL only ever
 * sees a secret that its author supplied; the refresh tokens it receives are bound to the client and useless
 * without the real secret.
 */
export function assertSecretFollowsUrls(change: Record<string, unknown> | null, secretGiven: boolean): void {
  const moved = ['token_url', 'revoke_url'].filter((f) => change && f in change);
  if (moved.length > 0 && !secretGiven) {
    throw VaultError.validation(
      'client_secret',
      `is required when ${moved.join(' or ')} changes (the secret is sent to that URL)`,
    );
  }
}
