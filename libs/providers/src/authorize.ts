/**
 * The authorization request of a connect session (authorization code + PKCE S256, RFC 6749 §4.1, RFC 7636):
 * a random state and verifier from oauth4webapi, and the authorize URL with the provider's extra parameters
 * (the catalogue's `authorize` profile) that make the code exchange answer a refresh token.
 */
import * as oauth from 'oauth4webapi';
import type { CatalogueEntry } from './types';

/** Parameters the vault sets itself; an integration's `authorize_params` may not name them. */
export const RESERVED_AUTHORIZE_PARAMS: readonly string[] = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'user_scope',
  'state',
  'code_challenge',
  'code_challenge_method',
];

export interface PkceStart {
  state: string;
  codeVerifier: string;
  codeChallenge: string;
}

/** A fresh state (32 random bytes) and PKCE verifier with its S256 challenge. */
export async function startPkce(): Promise<PkceStart> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  return {
    state: oauth.generateRandomState(),
    codeVerifier,
    codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
  };
}

export interface AuthorizeUrlInput {
  entry: CatalogueEntry;
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scopes: string[];
  /** Slack user-token scopes (its `user_scope` parameter); ignored by providers without one. */
  userScopes?: string[];
  /** The integration's own parameters (e.g. Auth0 `audience`); they may override the provider's. */
  extraParams?: Record<string, string>;
}

/** The provider's parameters first, then the integration's, then the protocol's own, which nothing overrides. */
export function buildAuthorizeUrl(input: AuthorizeUrlInput): string {
  const { authorize } = input.entry;
  const url = new URL(input.authorizeUrl);
  const p = url.searchParams;
  for (const [k, v] of Object.entries(authorize.params)) p.set(k, v);
  for (const [k, v] of Object.entries(input.extraParams ?? {})) {
    if (!RESERVED_AUTHORIZE_PARAMS.includes(k)) p.set(k, v);
  }
  const sep = authorize.scopeSeparator ?? ' ';
  const scopes = [...new Set([...input.scopes, ...authorize.offlineScopes])];
  p.set('response_type', 'code');
  p.set('client_id', input.clientId);
  p.set('redirect_uri', input.redirectUri);
  if (scopes.length > 0) p.set('scope', scopes.join(sep));
  else p.delete('scope');
  if (authorize.userScopeParam && input.userScopes?.length) {
    p.set(authorize.userScopeParam, input.userScopes.join(sep));
  }
  p.set('state', input.state);
  p.set('code_challenge', input.codeChallenge);
  p.set('code_challenge_method', 'S256');
  return url.href;
}
