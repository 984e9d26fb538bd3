import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestApi, type TestApi } from '../utils/api';

type Schema = {
  type?: string;
  $ref?: string;
  items?: Schema;
  enum?: unknown[];
  properties?: Record<string, Schema>;
};
type Operation = {
  parameters?: { name: string; in: 'path' | 'query'; schema: Schema }[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
};

/** Sends raw bytes to the listening API and returns the whole answer (the server closes the connection). */
async function rawHttp(port: number, text: string): Promise<{ status: number; json: unknown }> {
  const answer = await new Promise<string>((resolve) => {
    let out = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (d) => (out += d.toString('utf8')));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
  });
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), json: JSON.parse(body) as unknown };
}

/** Every bad input gets a 4xx JSON answer with a stable code, never a framework's own shape or a 500. */
describe('bad input answers 4xx JSON with a machine-readable code (API over HTTP)', () => {
  let api: TestApi;
  let connectionId: string;
  let port: number;
  const integration = {
    key: 'acme',
    provider: 'oauth2',
    client_id: 'client-1',
    client_secret: 'secret-1',
    token_url: 'http://127.0.0.1:9/token',
  };
  const importBody = {
    integration: 'acme',
    tenant_id: 'tenant-a',
    external_id: 'u1',
    end_user_id: 'e1',
    refresh_token: 'rt',
    access_token: 'at',
    expires_at: new Date(Date.now() + 3600_000).toISOString(),
    scopes: ['read'],
    token_type: 'Bearer',
    metadata: { note: 'n' },
  };
  /** A valid body for each write endpoint: the walk below puts a NUL byte in one field at a time. */
  const VALID_BODIES: Record<string, () => Record<string, unknown>> = {
    'POST /v1/integrations': () => ({
      ...integration,
      key: 'fresh',
      authorize_url: 'http://127.0.0.1:9/a',
      revoke_url: 'http://127.0.0.1:9/r',
      scopes: ['s'],
      client_auth: 'client_secret_post',
    }),
    'PATCH /v1/integrations/{key}': () => ({
      client_id: 'client-2',
      scopes: ['s'],
      client_auth: 'client_secret_basic',
    }),
    'POST /v1/connections': () => ({ ...importBody, external_id: 'u2' }),
    'PUT /v1/connections/{id}/grant': () => ({
      refresh_token: 'rt2',
      access_token: 'at2',
      scopes: ['s'],
      token_type: 'Bearer',
    }),
    'POST /v1/api-keys': () => ({ name: 'n', scopes: ['tokens:read'], tenant_id: 't' }),
    'POST /v1/connect-sessions': () => ({
      integration: 'acme',
      tenant_id: 'tenant-a',
      end_user_id: 'e2',
      return_url: 'http://127.0.0.1:9/back',
      scopes: ['s'],
      user_scopes: ['u'],
    }),
  };

  beforeAll(async () => {
    api = await startTestApi();
    expect((await api.call('POST', '/v1/integrations', integration)).status).toBe(201);
    const created = await api.call('POST', '/v1/connections', importBody);
    expect(created.status).toBe(201);
    connectionId = created.body.id as string;
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    port = (api.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await api?.close();
  });

  const concrete = (path: string): string =>
    path
      .replace('{id}', connectionId)
      .replace('{key}', 'acme')
      .replace(/\{[a-z_]+\}/g, 'x');
  const resolve = (s: Schema): Schema =>
    s.$ref ? (api.openapi.components?.schemas?.[s.$ref.split('/').pop() ?? ''] as Schema) : s;

  it('answers 400 naming the field for a NUL byte in every string field of every write endpoint, and stores nothing', async () => {
    const before = await api.call('GET', '/v1/stats');
    let walked = 0;
    for (const [path, item] of Object.entries(api.openapi.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
        const schema = op.requestBody?.content['application/json'].schema;
        if (!schema) continue;
        const route = `${method.toUpperCase()} ${path}`;
        const valid = VALID_BODIES[route];
        expect({ route, hasValidBody: Boolean(valid) }).toEqual({ route, hasValidBody: true });
        for (const [name, prop] of Object.entries(resolve(schema).properties ?? {})) {
          const [value, field] =
            prop.type === 'string'
              ? ['a\u0000b', name]
              : prop.type === 'array' && prop.items?.type === 'string'
                ? [['ok', 'a\u0000b'], `${name}.1`]
                : prop.type === 'object'
                  ? [{ deep: { 'k\u0000': 'v' } }, `${name}.deep.k\u0000`]
                  : [undefined, ''];
          if (value === undefined) continue;
          const res = await api.call(method.toUpperCase() as 'POST', concrete(path), {
            ...valid?.(),
            [name]: value,
          });
          expect({ route, field: name, status: res.status, body: res.body }).toMatchObject({
            route,
            field: name,
            status: 400,
            body: { error: 'validation_failed', field },
          });
          walked++;
        }
      }
    }
    expect(walked).toBeGreaterThanOrEqual(30);
    expect((await api.call('GET', '/v1/stats')).body).toEqual(before.body);
    expect((await api.call('GET', '/v1/integrations/fresh')).status).toBe(404);
  });

  it('answers 400 naming the parameter for a NUL byte in every string path or query parameter', async () => {
    let walked = 0;
    for (const [path, item] of Object.entries(api.openapi.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
        for (const p of op.parameters ?? []) {
          if (p.schema.type !== 'string') continue;
          const url =
            p.in === 'path'
              ? concrete(path.replace(`{${p.name}}`, 'a%00b'))
              : `${concrete(path)}?${p.name}=a%00b`;
          const res = await api.call(
            method.toUpperCase() as 'GET',
            url,
            method === 'get' || method === 'delete' ? undefined : {},
          );
          expect({ url, method, status: res.status, body: res.body }).toMatchObject({
            url,
            method,
            status: 400,
            body: { error: 'validation_failed', field: p.name },
          });
          walked++;
        }
      }
    }
    expect(walked).toBeGreaterThanOrEqual(15);
  });

  it('answers 400 validation_failed for a URL whose percent-encoding does not decode, in the path or the query', async () => {
    for (const [url, field] of [
      ['/v1/connections/%zz/token', 'url'],
      ['/v1/integrations/%E0%A4%A', 'url'],
      ['/v1/connections?tenant_id=%zz', 'tenant_id'],
      ['/v1/connections?cursor=%E0%A4%A', 'cursor'],
      ['/v1/connections?%zz=1', 'query'],
      [`/v1/integrations/${'a'.repeat(101)}`, 'url'],
    ] as const) {
      const res = await api.call('GET', url);
      expect({ url, status: res.status, body: res.body }).toMatchObject({
        url,
        status: 400,
        body: { error: 'validation_failed', field, message: expect.any(String) },
      });
    }
  });

  it('answers bodies that are not JSON, not ours or too deep with 400, 415 or 413, each with its code', async () => {
    const send = (payload: string, contentType: string) =>
      api.app.inject({
        method: 'POST',
        url: '/v1/connections',
        headers: { authorization: `Bearer ${api.adminKey}`, 'content-type': contentType },
        payload,
      });
    for (const [payload, type, status, error, field] of [
      ['{"integration":', 'application/json', 400, 'validation_failed', 'body'],
      ['{"__proto__":{"admin":true}}', 'application/json', 400, 'validation_failed', 'body'],
      ['', 'application/json', 400, 'validation_failed', 'body'],
      ['integration=acme', 'text/plain', 415, 'unsupported_media_type', undefined],
      ['{}', 'application/xml', 415, 'unsupported_media_type', undefined],
      [
        JSON.stringify({ ...importBody, external_id: 'deep', metadata: null }).replace(
          '"metadata":null',
          `"metadata":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        ),
        'application/json',
        400,
        'validation_failed',
        expect.stringMatching(/^metadata\.a(\.0)+$/),
      ],
    ] as const) {
      const res = await send(payload, type);
      expect({
        payload: payload.slice(0, 40),
        status: res.statusCode,
        body: JSON.parse(res.body),
      }).toMatchObject({
        payload: payload.slice(0, 40),
        status,
        body: { error, ...(field ? { field } : {}) },
      });
    }
  });

  it('answers requests that Node refuses to parse in the same JSON format (400, and 431 for huge headers)', async () => {
    for (const [text, status, error] of [
      ['GET /v1/connections HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n', 400, 'validation_failed'],
      ['GET /v1/connections HTTP/1.1\r\nHost: x\r\nX-Ctl: a\u0001b\r\n\r\n', 400, 'validation_failed'],
      ['NOT HTTP AT ALL\r\n\r\n', 400, 'validation_failed'],
      ['GET /v1/connections HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'validation_failed'],
      [
        `GET /v1/connections HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'headers_too_large',
      ],
    ] as const) {
      const res = await rawHttp(port, text);
      expect({ text: text.slice(0, 50), ...res }).toMatchObject({
        text: text.slice(0, 50),
        status,
        json: { error, message: expect.any(String) },
      });
    }
  });
});
