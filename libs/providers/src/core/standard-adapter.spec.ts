import { createDefaultRegistry } from '../registry';
import type { ClientAuthMethod, ProviderName, RefreshRequest } from '../types';

interface Captured {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A fetch that records the request and answers with a fixed response. */
function recordingFetch(answer: () => Response) {
  const calls: Captured[] = [];
  const impl: typeof fetch = (input, init) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = init?.body;
    calls.push({
      url: typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
      headers,
      body: typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : '',
    });
    return Promise.resolve(answer());
  };
  return { calls, impl };
}

const OK = () =>
  new Response(JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 60 }), {
    headers: { 'content-type': 'application/json' },
  });

function request(clientAuth: ClientAuthMethod, overrides: Partial<RefreshRequest> = {}): RefreshRequest {
  return {
    endpoints: { tokenUrl: 'https://as.example.test/token' },
    clientId: 'my client:id',
    clientSecret: 's3cr%t+/=',
    clientAuth,
    refreshToken: 'rt-0',
    timeoutMs: 2000,
    ...overrides,
  };
}

async function send(provider: ProviderName, req: RefreshRequest, answer = OK) {
  const fake = recordingFetch(answer);
  const result = await createDefaultRegistry({ fetch: fake.impl }).get(provider).refresh(req);
  const call = fake.calls[0];
  if (!call) throw new Error('no request sent');
  return { result, call };
}

describe('StandardAdapter request building', () => {
  it('client_secret_basic: credentials form-urlencoded, then base64 (RFC 6749 §2.3.1), not in the body', async () => {
    const { result, call } = await send('oauth2', request('client_secret_basic'));
    expect(result.ok).toBe(true);
    const decoded = Buffer.from(
      (call.headers.authorization ?? '').replace(/^Basic /, ''),
      'base64',
    ).toString();
    expect(decoded).toBe('my+client%3Aid:s3cr%25t%2B%2F%3D');
    const params = new URLSearchParams(call.body);
    expect(Object.fromEntries(params)).toEqual({ refresh_token: 'rt-0', grant_type: 'refresh_token' });
    expect(call.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(call.headers.accept).toBe('application/json');
  });

  it('client_secret_post: credentials in the body, no Authorization header, no scope', async () => {
    const { call } = await send('google', request('client_secret_post'));
    expect(call.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(call.body))).toEqual({
      client_id: 'my client:id',
      client_secret: 's3cr%t+/=',
      refresh_token: 'rt-0',
      grant_type: 'refresh_token',
    });
    expect(call.url).toBe('https://as.example.test/token');
  });

  it('JSON-body providers (atlassian, notion) get the same parameters as JSON', async () => {
    const { call } = await send('notion', request('client_secret_basic'));
    expect(call.headers['content-type']).toBe('application/json');
    expect(JSON.parse(call.body)).toEqual({ refresh_token: 'rt-0', grant_type: 'refresh_token' });
    expect(call.headers.authorization).toMatch(/^Basic /);
    const atlassian = await send('atlassian', request('client_secret_post'));
    expect(JSON.parse(atlassian.call.body)).toMatchObject({
      client_id: 'my client:id',
      grant_type: 'refresh_token',
    });
  });

  it('refuses plain http to a non-loopback host without sending anything', async () => {
    const fake = recordingFetch(OK);
    const adapter = createDefaultRegistry({ fetch: fake.impl }).get('oauth2');
    const result = await adapter.refresh(
      request('client_secret_post', { endpoints: { tokenUrl: 'http://as.example.test/t' } }),
    );
    expect(fake.calls).toHaveLength(0);
    expect(result).toMatchObject({
      ok: false,
      failure: {
        class: 'integration_error',
        code: 'outbound_url_refused',
        subCode: 'http_not_loopback',
        httpStatus: null,
        ambiguous: false,
      },
    });
  });

  it('keeps nothing of an echoed description: neither the client secret nor the refresh token', async () => {
    const secretish = request('client_secret_post', { clientSecret: 'abc-secret', refreshToken: 'rt.short' });
    const echo = () =>
      new Response(
        JSON.stringify({ error: 'invalid_grant', error_description: 'rt.short for abc-secret is dead' }),
        {
          status: 400,
          headers: { 'content-type': 'application/json' },
        },
      );
    const { result } = await send('oauth2', secretish, echo);
    expect(result).toEqual({
      ok: false,
      failure: { class: 'reauth_required', code: 'invalid_grant', httpStatus: 400, ambiguous: false },
    });
  });
});

describe('StandardAdapter transport failures', () => {
  const hanging: typeof fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      const signal = init?.signal;
      if (signal?.aborted) reject(signal.reason as Error);
      signal?.addEventListener('abort', () => reject(signal.reason as Error));
    });

  it('times out after timeoutMs: transient, code timeout, ambiguous', async () => {
    const adapter = createDefaultRegistry({ fetch: hanging }).get('oauth2');
    const started = Date.now();
    const result = await adapter.refresh(request('client_secret_basic', { timeoutMs: 50 }));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result).toEqual({
      ok: false,
      failure: { class: 'transient', code: 'timeout', httpStatus: null, ambiguous: true },
    });
  });

  it("honours the caller's signal", async () => {
    const controller = new AbortController();
    const adapter = createDefaultRegistry({ fetch: hanging }).get('slack');
    const pending = adapter.refresh(
      request('client_secret_basic', { timeoutMs: 10_000, signal: controller.signal }),
    );
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, failure: { code: 'aborted', ambiguous: true } });
  });

  it('maps errno codes: refused is not ambiguous, reset is', async () => {
    const failing =
      (code: string): typeof fetch =>
      () =>
        Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code }) }));
    const refused = await createDefaultRegistry({ fetch: failing('ECONNREFUSED') })
      .get('oauth2')
      .refresh(request('client_secret_basic'));
    expect(refused).toMatchObject({
      ok: false,
      failure: { code: 'connect_failed', subCode: 'ECONNREFUSED', ambiguous: false },
    });
    const reset = await createDefaultRegistry({ fetch: failing('UND_ERR_SOCKET') })
      .get('oauth2')
      .refresh(request('client_secret_basic'));
    expect(reset).toMatchObject({ ok: false, failure: { code: 'connection_reset', ambiguous: true } });
  });
});

describe('revoke', () => {
  it('sends RFC 7009 token + token_type_hint and treats any 200 as done', async () => {
    const fake = recordingFetch(() => new Response('', { status: 200 }));
    const adapter = createDefaultRegistry({ fetch: fake.impl }).get('google');
    const result = await adapter.revoke?.({
      ...request('client_secret_post'),
      endpoints: { tokenUrl: 'https://as.example.test/token', revokeUrl: 'https://as.example.test/revoke' },
      token: 'rt-0',
      tokenTypeHint: 'refresh_token',
    });
    expect(result).toEqual({ ok: true });
    expect(fake.calls[0]?.url).toBe('https://as.example.test/revoke');
    expect(Object.fromEntries(new URLSearchParams(fake.calls[0]?.body))).toMatchObject({
      token: 'rt-0',
      token_type_hint: 'refresh_token',
    });
  });

  it('without a revoke URL answers revocation_unsupported', async () => {
    const adapter = createDefaultRegistry({ fetch: recordingFetch(OK).impl }).get('github');
    const result = await adapter.revoke?.({
      ...request('client_secret_post'),
      token: 't',
      tokenTypeHint: 'access_token',
    });
    expect(result).toMatchObject({ ok: false, failure: { code: 'revocation_unsupported' } });
  });

  it('503 is transient (the token must be assumed alive)', async () => {
    const fake = recordingFetch(() => new Response('busy', { status: 503, headers: { 'retry-after': '5' } }));
    const adapter = createDefaultRegistry({ fetch: fake.impl }).get('oauth2');
    const result = await adapter.revoke?.({
      ...request('client_secret_basic'),
      endpoints: { tokenUrl: 'https://as.example.test/token', revokeUrl: 'https://as.example.test/revoke' },
      token: 't',
      tokenTypeHint: 'refresh_token',
    });
    expect(result).toMatchObject({
      ok: false,
      failure: { class: 'transient', code: 'http_503', retryAfterSeconds: 5 },
    });
  });
});
