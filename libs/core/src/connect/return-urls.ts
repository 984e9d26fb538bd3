import { RESERVED_AUTHORIZE_PARAMS } from '@vault/providers';
import { VaultError } from '../errors/vault-error';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A URL a browser may be sent back to: absolute http(s), no credentials, no fragment. */
function parseReturnUrl(value: string, field: string): URL {
  if (!URL.canParse(value)) throw VaultError.validation(field, 'is not an absolute URL');
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw VaultError.validation(field, 'must be an http or https URL');
  if (url.username || url.password) throw VaultError.validation(field, 'must not carry credentials');
  if (url.hash) throw VaultError.validation(field, 'must not carry a fragment');
  return url;
}

/** Checks an integration's `allowed_return_urls` when they are set. */
export function checkAllowedReturnUrls(urls: string[]): void {
  for (const u of urls) parseReturnUrl(u, 'allowed_return_urls');
}

/**
 * A connect session's `return_url` must fall under one of the integration's `allowed_return_urls`: same
 * scheme, host and port, and a path under the allowed one at a `/` boundary (`https://app.example.com/cb`
 * allows `/cb` and `/cb/x`, never `/cb-evil` nor `https://app.example.com.evil.net`). With an empty list,
 * outside production, any loopback URL is allowed (design, section 8).
 */
export function assertReturnUrlAllowed(returnUrl: string, allowed: string[], production: boolean): URL {
  const url = parseReturnUrl(returnUrl, 'return_url');
  if (allowed.length === 0) {
    if (!production && LOOPBACK.has(url.hostname)) return url;
    throw VaultError.validation('return_url', "is not among the integration's allowed_return_urls");
  }
  const ok = allowed.some((a) => {
    const base = new URL(a);
    if (base.origin !== url.origin) return false;
    const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    return url.pathname === base.pathname || url.pathname.startsWith(prefix);
  });
  if (!ok) throw VaultError.validation('return_url', "is not among the integration's allowed_return_urls");
  return url;
}

const PARAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Checks an integration's extra authorize parameters: names of the form above, short string values. */
export function checkAuthorizeParams(params: unknown): Record<string, string> {
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw VaultError.validation('authorize_params', 'must be an object of strings');
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length > 20) throw VaultError.validation('authorize_params', 'at most 20 parameters');
  for (const [k, v] of entries) {
    if (!PARAM_NAME.test(k)) throw VaultError.validation('authorize_params', `${k}: not a parameter name`);
    if (RESERVED_AUTHORIZE_PARAMS.includes(k))
      throw VaultError.validation('authorize_params', `${k} is set by the vault`);
    if (typeof v !== 'string' || v.length > 1024)
      throw VaultError.validation('authorize_params', `${k}: must be a string of at most 1024 characters`);
  }
  return params as Record<string, string>;
}
