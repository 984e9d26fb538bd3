/** The google, slack and oauth2 adapters against local emulators of the real providers, with faults. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDefaultRegistry, type ProviderName, type RefreshRequest } from '@vault/providers';
import { type Emulator, startGoogleEmulator, startSlackEmulator } from '../utils/provider-emulators';
import { refreshRequest, tokensOf } from '../utils/refresh-requests';

const registry = createDefaultRegistry();

function req(emu: Emulator, refreshToken: string, over: Partial<RefreshRequest> = {}): RefreshRequest {
  return refreshRequest(emu, refreshToken, 2000, over);
}

/** Fault behaviour shared by every adapter/emulator pair. */
function faultSuite(provider: ProviderName, start: () => Promise<Emulator>) {
  describe(`${provider} adapter: faults`, () => {
    let emu: Emulator;
    let rt: string;
    const adapter = registry.get(provider);
    beforeEach(async () => {
      emu = await start();
      rt = emu.issue();
    });
    afterEach(() => emu.close());

    it('5xx → transient, and the refresh token is untouched', async () => {
      emu.faults.push({
        status: 503,
        body: '<html>Service Unavailable</html>',
        headers: { 'retry-after': '3' },
      });
      const result = await adapter.refresh(req(emu, rt));
      expect(result).toMatchObject({
        ok: false,
        failure: {
          class: 'transient',
          code: 'http_503',
          httpStatus: 503,
          retryAfterSeconds: 3,
          ambiguous: false,
        },
      });
      expect(tokensOf(await adapter.refresh(req(emu, rt))).accessToken).toBeTruthy();
      expect(emu.callsFor(rt)).toBe(2);
    });

    it('hang past the timeout → transient timeout, ambiguous', async () => {
      emu.faults.push({ hangMs: 1500 });
      const started = Date.now();
      const result = await adapter.refresh(req(emu, rt, { timeoutMs: 300 }));
      expect(Date.now() - started).toBeLessThan(1200);
      expect(result).toEqual({
        ok: false,
        failure: { class: 'transient', code: 'timeout', httpStatus: null, ambiguous: true },
      });
    });

    it('429 with Retry-After → rate_limited', async () => {
      emu.faults.push({
        status: 429,
        headers: { 'Retry-After': '30' },
        body: { ok: false, error: 'ratelimited' },
      });
      const result = await adapter.refresh(req(emu, rt));
      expect(result).toMatchObject({ ok: false, failure: { class: 'rate_limited', retryAfterSeconds: 30 } });
    });

    it('garbage body → transient non_json_body with its shape, never the body', async () => {
      emu.faults.push({ garbage: true });
      const result = await adapter.refresh(req(emu, rt));
      expect(result).toMatchObject({
        ok: false,
        failure: { class: 'transient', code: 'non_json_body', httpStatus: 200 },
      });
      if (!result.ok) expect(result.failure.shape).toMatch(/^text\/html;len=\d+$/);
    });

    it('connection reset after the request was sent → transient, ambiguous', async () => {
      emu.faults.push({ reset: true });
      const result = await adapter.refresh(req(emu, rt));
      expect(result).toMatchObject({
        ok: false,
        failure: { class: 'transient', code: 'connection_reset', ambiguous: true },
      });
      expect(emu.callsFor(rt)).toBe(1);
    });

    it('connection refused before sending → transient, not ambiguous', async () => {
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const result = await adapter.refresh(
        req(emu, rt, { endpoints: { tokenUrl: `http://127.0.0.1:${port}/token` } }),
      );
      expect(result).toMatchObject({
        ok: false,
        failure: { class: 'transient', code: 'connect_failed', subCode: 'ECONNREFUSED', ambiguous: false },
      });
    });
  });
}

describe('google adapter ↔ Google emulator', () => {
  let emu: Emulator;
  const google = registry.get('google');
  beforeEach(async () => {
    emu = await startGoogleEmulator();
  });
  afterEach(() => emu.close());

  it.each(['client_secret_post', 'client_secret_basic'] as const)(
    'refreshes without rotation (%s): refreshToken null, the same RT keeps working',
    async (clientAuth) => {
      const rt = emu.issue();
      const first = tokensOf(await google.refresh(req(emu, rt, { clientAuth })));
      expect(first).toMatchObject({ tokenType: 'Bearer', expiresIn: 3599, refreshToken: null });
      expect(first.accessToken).toMatch(/^ya29\./);
      expect(first.scopes).toEqual(['openid', 'https://www.googleapis.com/auth/userinfo.email']);
      const second = tokensOf(await google.refresh(req(emu, rt, { clientAuth })));
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(emu.calls).toBe(2);
      expect(emu.callsFor(rt)).toBe(2);
    },
  );

  it('revoked refresh token → reauth_required invalid_grant', async () => {
    const rt = emu.issue();
    emu.revoke(rt);
    expect(await google.refresh(req(emu, rt))).toEqual({
      ok: false,
      failure: {
        class: 'reauth_required',
        code: 'invalid_grant',
        httpStatus: 400,
        ambiguous: false,
      },
    });
  });

  it('Workspace session control → reauth_required with sub-code invalid_rapt', async () => {
    const rt = emu.issue({ raptRequired: true });
    expect(await google.refresh(req(emu, rt))).toMatchObject({
      ok: false,
      failure: { class: 'reauth_required', code: 'invalid_grant', subCode: 'invalid_rapt' },
    });
  });

  it('wrong client secret → integration_error invalid_client, the secret never echoed', async () => {
    const rt = emu.issue();
    const result = await google.refresh(req(emu, rt, { clientSecret: 'wrong-secret-value' }));
    expect(result).toMatchObject({
      ok: false,
      failure: { class: 'integration_error', code: 'invalid_client', httpStatus: 401 },
    });
    expect(JSON.stringify(result)).not.toContain('wrong-secret-value');
    expect(JSON.stringify(result)).not.toContain(rt);
  });

  it('403 HTML page → rate_limited', async () => {
    const rt = emu.issue();
    emu.faults.push({ status: 403, body: '<html><body>automated queries</body></html>' });
    expect(await google.refresh(req(emu, rt))).toMatchObject({
      ok: false,
      failure: { class: 'rate_limited', httpStatus: 403 },
    });
  });

  it('revoke() at the revocation endpoint kills the refresh token', async () => {
    const rt = emu.issue();
    const revoked = await google.revoke?.({ ...req(emu, rt), token: rt, tokenTypeHint: 'refresh_token' });
    expect(revoked).toEqual({ ok: true });
    expect(await google.refresh(req(emu, rt))).toMatchObject({
      ok: false,
      failure: { class: 'reauth_required' },
    });
  });
});

describe('slack adapter ↔ Slack emulator', () => {
  let emu: Emulator;
  const slack = registry.get('slack');
  beforeEach(async () => {
    emu = await startSlackEmulator();
  });
  afterEach(() => emu.close());

  it.each(['client_secret_basic', 'client_secret_post'] as const)(
    'rotates on every refresh (%s); the used RT is dead at once',
    async (clientAuth) => {
      const rt0 = emu.issue();
      const t1 = tokensOf(await slack.refresh(req(emu, rt0, { clientAuth })));
      expect(t1).toMatchObject({
        tokenType: 'bot',
        expiresIn: 43200,
        scopes: ['chat:write', 'channels:read'],
      });
      expect(t1.accessToken).toMatch(/^xoxe\.xoxb-1-/);
      expect(t1.refreshToken).toMatch(/^xoxe-1-/);
      expect(t1.refreshToken).not.toBe(rt0);
      expect(await slack.refresh(req(emu, rt0, { clientAuth }))).toEqual({
        ok: false,
        failure: {
          class: 'reauth_required',
          code: 'invalid_refresh_token',
          httpStatus: 200,
          ambiguous: false,
        },
      });
      const t2 = tokensOf(await slack.refresh(req(emu, t1.refreshToken ?? '', { clientAuth })));
      expect(t2.refreshToken).not.toBe(t1.refreshToken);
    },
  );

  it('bad client secret → integration_error (HTTP 200 ok:false)', async () => {
    const result = await slack.refresh(req(emu, emu.issue(), { clientSecret: 'nope-nope' }));
    expect(result).toMatchObject({
      ok: false,
      failure: { class: 'integration_error', code: 'bad_client_secret', httpStatus: 200 },
    });
  });

  it('revoked refresh token → reauth_required', async () => {
    const rt = emu.issue();
    emu.revoke(rt);
    expect(await slack.refresh(req(emu, rt))).toMatchObject({
      ok: false,
      failure: { code: 'invalid_refresh_token' },
    });
  });

  it('a timed-out rotation is lost: the retry with the same RT gets invalid_refresh_token', async () => {
    const rt = emu.issue();
    emu.faults.push({ hangMs: 400 });
    const first = await slack.refresh(req(emu, rt, { timeoutMs: 150 }));
    expect(first).toMatchObject({ ok: false, failure: { code: 'timeout', ambiguous: true } });
    await new Promise((r) => setTimeout(r, 500)); // the emulator finishes the rotation nobody receives
    const retry = await slack.refresh(req(emu, rt));
    expect(retry).toMatchObject({
      ok: false,
      failure: { class: 'reauth_required', code: 'invalid_refresh_token' },
    });
    expect(emu.callsFor(rt)).toBe(2);
  });

  it('ok:false internal_error → transient, ambiguous', async () => {
    emu.faults.push({ status: 200, body: { ok: false, error: 'internal_error' } });
    expect(await slack.refresh(req(emu, emu.issue()))).toMatchObject({
      ok: false,
      failure: { class: 'transient', code: 'internal_error', ambiguous: true },
    });
  });

  it('revoke() of an access token through auth.revoke', async () => {
    const t = tokensOf(await slack.refresh(req(emu, emu.issue())));
    const revoke = { ...req(emu, ''), token: t.accessToken, tokenTypeHint: 'access_token' as const };
    expect(await slack.revoke?.(revoke)).toEqual({ ok: true });
    expect(await slack.revoke?.(revoke)).toMatchObject({
      ok: false,
      failure: { code: 'invalid_auth', httpStatus: 200 },
    });
  });
});

describe('oauth2 adapter ↔ Google emulator (standard answers)', () => {
  it('refreshes with Basic auth and keeps the RT when none is returned', async () => {
    const emu = await startGoogleEmulator();
    try {
      const rt = emu.issue();
      const result = await registry
        .get('oauth2')
        .refresh(req(emu, rt, { clientAuth: 'client_secret_basic' }));
      expect(tokensOf(result).refreshToken).toBeNull();
      expect(emu.calls).toBe(1);
    } finally {
      await emu.close();
    }
  });
});

faultSuite('google', startGoogleEmulator);
faultSuite('slack', startSlackEmulator);
faultSuite('oauth2', startGoogleEmulator);
