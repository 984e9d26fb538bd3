import { buildAuthorizeUrl, startPkce } from './authorize';
import { CATALOGUE } from './catalogue';
import { createHash } from 'node:crypto';

const base = {
  clientId: 'client-1',
  redirectUri: 'https://vault.example.com/v1/oauth/callback',
  state: 'st',
  codeChallenge: 'ch',
};

function params(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams);
}

describe('authorize URL per provider', () => {
  it('Google asks for offline access with consent, so the exchange answers a refresh token', () => {
    const url = buildAuthorizeUrl({
      ...base,
      entry: CATALOGUE.google,
      authorizeUrl: CATALOGUE.google.authorizeUrl ?? '',
      scopes: ['openid', 'email'],
    });
    expect(params(url)).toEqual({
      access_type: 'offline',
      prompt: 'consent',
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: base.redirectUri,
      scope: 'openid email',
      state: 'st',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
  });

  it('Microsoft and standard servers add offline_access once; standard servers ask for consent (OIDC §11)', () => {
    const ms = params(
      buildAuthorizeUrl({
        ...base,
        entry: CATALOGUE.microsoft,
        authorizeUrl: 'https://login.microsoftonline.com/x/authorize',
        scopes: ['User.Read', 'offline_access'],
      }),
    );
    expect(ms.scope).toBe('User.Read offline_access');
    expect(ms.prompt).toBeUndefined();
    const std = params(
      buildAuthorizeUrl({ ...base, entry: CATALOGUE.oauth2, authorizeUrl: 'https://as/auth', scopes: [] }),
    );
    expect(std).toMatchObject({ scope: 'offline_access', prompt: 'consent' });
  });

  it('Slack joins scopes with commas and sends user scopes in user_scope', () => {
    const p = params(
      buildAuthorizeUrl({
        ...base,
        entry: CATALOGUE.slack,
        authorizeUrl: CATALOGUE.slack.authorizeUrl ?? '',
        scopes: ['chat:write', 'channels:read'],
        userScopes: ['search:read'],
      }),
    );
    expect(p).toMatchObject({ scope: 'chat:write,channels:read', user_scope: 'search:read' });
  });

  it("Auth0 takes the integration's audience; nothing overrides the protocol's own parameters", () => {
    const p = params(
      buildAuthorizeUrl({
        ...base,
        entry: CATALOGUE.auth0,
        authorizeUrl: 'https://tenant.eu.auth0.com/authorize',
        scopes: ['openid'],
        extraParams: { audience: 'https://api.example.com', state: 'evil', redirect_uri: 'https://evil' },
      }),
    );
    expect(p).toMatchObject({
      audience: 'https://api.example.com',
      scope: 'openid offline_access',
      state: 'st',
      redirect_uri: base.redirectUri,
    });
  });

  it('PKCE: a random state and verifier, and the S256 challenge of the verifier', async () => {
    const a = await startPkce();
    const b = await startPkce();
    expect(a.state).not.toBe(b.state);
    expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(a.codeChallenge).toBe(createHash('sha256').update(a.codeVerifier).digest('base64url'));
  });
});
