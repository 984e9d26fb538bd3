/** The oauth2 adapter against a real OAuth server (oidc-provider) with rotation and reuse detection. */
import { createDefaultRegistry, type RefreshRequest } from '@vault/providers';
import { type OAuthServer, startOAuthServer } from '../utils/oauth-server';
import { refreshRequest, tokensOf } from '../utils/refresh-requests';

const oauth2 = createDefaultRegistry().get('oauth2');

function req(server: OAuthServer, refreshToken: string, over: Partial<RefreshRequest> = {}): RefreshRequest {
  return refreshRequest(server, refreshToken, 3000, over);
}

async function until(check: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('oauth2 adapter ↔ oidc-provider (rotateRefreshToken: true)', () => {
  let server: OAuthServer;
  beforeEach(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 120 });
  });
  afterEach(() => server.close());

  it.each(['client_secret_post', 'client_secret_basic'] as const)(
    'success rotates the refresh token (%s); reusing the old one is reauth_required and kills the family',
    async (clientAuth) => {
      const rt0 = await server.mintRefreshToken();
      const t1 = tokensOf(await oauth2.refresh(req(server, rt0, { clientAuth })));
      expect(t1).toMatchObject({ tokenType: 'Bearer', expiresIn: 120, scopes: ['openid', 'offline_access'] });
      expect(t1.refreshToken).toEqual(expect.any(String));
      expect(t1.refreshToken).not.toBe(rt0);

      expect(await oauth2.refresh(req(server, rt0, { clientAuth }))).toEqual({
        ok: false,
        failure: {
          class: 'reauth_required',
          code: 'invalid_grant',
          httpStatus: 400,
          ambiguous: false,
        },
      });
      expect(server.reuseDetections).toBe(1);
      // reuse revoked the grant: the winner's new refresh token is dead too
      expect(await oauth2.refresh(req(server, t1.refreshToken ?? '', { clientAuth }))).toMatchObject({
        ok: false,
        failure: { class: 'reauth_required' },
      });
      expect(server.tokenCalls).toBe(3);
      expect(server.reuseDetections).toBe(1);
    },
  );

  it.each(['client_secret_post', 'client_secret_basic'] as const)(
    'wrong client secret → integration_error invalid_client (%s), counted as a token call',
    async (clientAuth) => {
      const rt = await server.mintRefreshToken();
      const result = await oauth2.refresh(req(server, rt, { clientAuth, clientSecret: 'not-the-secret' }));
      expect(result).toMatchObject({
        ok: false,
        failure: { class: 'integration_error', code: 'invalid_client', httpStatus: 401 },
      });
      expect(server.tokenCalls).toBe(1);
      expect(tokensOf(await oauth2.refresh(req(server, rt, { clientAuth }))).accessToken).toBeTruthy();
    },
  );

  it('two concurrent refreshes with one RT: one wins, one is reauth_required (why single-flight is needed)', async () => {
    const rt = await server.mintRefreshToken();
    const results = await Promise.all([oauth2.refresh(req(server, rt)), oauth2.refresh(req(server, rt))]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.failure.class === 'reauth_required')).toHaveLength(1);
    expect(server.tokenCalls).toBe(2);
    expect(server.reuseDetections).toBe(1);
  });

  it('revoke() of the refresh token at the RFC 7009 endpoint, then refresh is reauth_required', async () => {
    const rt = await server.mintRefreshToken();
    const revoke = { ...req(server, rt), token: rt, tokenTypeHint: 'refresh_token' as const };
    expect(await oauth2.revoke?.(revoke)).toEqual({ ok: true });
    expect(await oauth2.refresh(req(server, rt))).toMatchObject({
      ok: false,
      failure: { code: 'invalid_grant' },
    });
    expect(server.reuseDetections).toBe(0);
  });

  it('faults: 429 with Retry-After, then 503 HTML, leave the refresh token usable', async () => {
    const rt = await server.mintRefreshToken();
    server.faults.push(
      { status: 429, headers: { 'Retry-After': '7' }, body: { error: 'too_many_requests' } },
      { status: 503, body: '<html>down</html>' },
    );
    expect(await oauth2.refresh(req(server, rt))).toMatchObject({
      ok: false,
      failure: { class: 'rate_limited', code: 'too_many_requests', retryAfterSeconds: 7 },
    });
    expect(await oauth2.refresh(req(server, rt))).toMatchObject({
      ok: false,
      failure: { class: 'transient', code: 'http_503' },
    });
    expect(tokensOf(await oauth2.refresh(req(server, rt))).refreshToken).not.toBe(rt);
    expect(server.tokenCalls).toBe(3);
  });

  it('a timeout after the request was processed loses the rotation: the retry is a detected reuse', async () => {
    const rt = await server.mintRefreshToken();
    server.faults.push({ hangMs: 500 });
    expect(await oauth2.refresh(req(server, rt, { timeoutMs: 200 }))).toMatchObject({
      ok: false,
      failure: { class: 'transient', code: 'timeout', ambiguous: true },
    });
    await until(() => server.tokenCalls === 1); // the server completes the rotation nobody receives
    expect(await oauth2.refresh(req(server, rt))).toMatchObject({
      ok: false,
      failure: { class: 'reauth_required' },
    });
    expect(server.reuseDetections).toBe(1);
  });

  it('garbage and reset faults are transient', async () => {
    const rt = await server.mintRefreshToken();
    server.faults.push({ garbage: true }, { reset: true });
    expect(await oauth2.refresh(req(server, rt))).toMatchObject({
      ok: false,
      failure: { code: 'non_json_body' },
    });
    expect(await oauth2.refresh(req(server, rt))).toMatchObject({
      ok: false,
      failure: { code: 'connection_reset', ambiguous: true },
    });
    expect(server.tokenCalls).toBe(2);
  });
});

describe('oauth2 adapter ↔ oidc-provider (rotateRefreshToken: false)', () => {
  it('returns the same refresh token, which keeps working', async () => {
    const server = await startOAuthServer({ rotate: false });
    try {
      const rt = await server.mintRefreshToken('user-2');
      expect(
        tokensOf(await oauth2.refresh(req(server, rt, { clientAuth: 'client_secret_basic' }))).refreshToken,
      ).toBe(rt);
      expect(tokensOf(await oauth2.refresh(req(server, rt))).refreshToken).toBe(rt);
      expect(server.tokenCalls).toBe(2);
      expect(server.reuseDetections).toBe(0);
    } finally {
      await server.close();
    }
  });
});
