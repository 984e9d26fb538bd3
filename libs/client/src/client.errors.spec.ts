import { inspect } from 'node:util';
import { VaultClient } from './client';
import {
  ConnectionRevokedError,
  ForbiddenError,
  NotFoundError,
  ReauthRequiredError,
  UnauthorizedError,
  ValidationError,
  VaultApiError,
} from './errors';
import { startFakeVault, tokenAnswer, type FakeVault } from './testing/fake-vault';

/** The API's error answers become typed errors; no error ever carries the API key or a token. */
describe('VaultClient: typed errors', () => {
  let vault: FakeVault;
  const KEY = 'vk_secret-key-value-0001';

  beforeEach(async () => {
    vault = await startFakeVault();
  });
  afterEach(() => vault.close());

  const cases: { status: number; body: unknown; type: unknown; fields: Record<string, unknown> }[] = [
    {
      status: 409,
      body: { error: 'reauth_required', message: 'the connection needs consent', reason: 'invalid_grant' },
      type: ReauthRequiredError,
      fields: { code: 'reauth_required', reason: 'invalid_grant' },
    },
    {
      status: 409,
      body: { error: 'connection_revoked', message: 'the connection was revoked', reason: 'revoked' },
      type: ConnectionRevokedError,
      fields: { code: 'connection_revoked' },
    },
    {
      status: 404,
      body: { error: 'not_found', message: 'connection not found' },
      type: NotFoundError,
      fields: { code: 'not_found' },
    },
    {
      status: 401,
      body: { error: 'unauthorized', message: 'the API key is not valid' },
      type: UnauthorizedError,
      fields: { code: 'unauthorized' },
    },
    {
      status: 403,
      body: { error: 'forbidden', message: 'lacks tokens:read', required_scope: 'tokens:read' },
      type: ForbiddenError,
      fields: { requiredScope: 'tokens:read' },
    },
    {
      status: 400,
      body: { error: 'validation_failed', message: 'min_ttl: bad', field: 'min_ttl' },
      type: ValidationError,
      fields: { field: 'min_ttl' },
    },
    {
      status: 500,
      body: { error: 'internal_error', message: 'quote the errorId', errorId: 'e-1' },
      type: VaultApiError,
      fields: { code: 'internal_error', details: { errorId: 'e-1' } },
    },
    { status: 502, body: '<html>bad gateway</html>', type: VaultApiError, fields: { code: 'http_502' } },
  ];

  it.each(cases)('maps $status to its error class', async ({ status, body, type, fields }) => {
    vault.answers = [{ status, body }];
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: KEY });
    const err = await vc.getToken('c-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect(err).toBeInstanceOf(VaultApiError);
    expect(err).toMatchObject({ status, ...fields });
    expect((err as Error).message).toMatch(/^GET \/v1\/connections\/c-1\/token: /);
  });

  it('never puts the API key in an error, even when the answer echoes it', async () => {
    const echo = `Authorization: Bearer ${KEY}`;
    vault.answers = [{ status: 401, body: { error: 'unauthorized', message: `bad ${echo}`, header: echo } }];
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: KEY });
    const err = (await vc.getToken('c-1').catch((e: unknown) => e)) as UnauthorizedError;
    expect(err).toBeInstanceOf(UnauthorizedError);
    const everything = `${err.message} ${err.stack} ${JSON.stringify(err)} ${JSON.stringify(err.details)}`;
    expect(everything).not.toContain(KEY);
    expect(err.message).toContain('[redacted]');
  });

  it('never puts a token in an error: an answer that is not a token is refused by its shape only', async () => {
    vault.answers = [{ status: 200, body: { access_token: 'at-SECRET-1', expires_at: 'not a date' } }];
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: KEY });
    const err = (await vc.getToken('c-1').catch((e: unknown) => e)) as VaultApiError;
    expect(err).toMatchObject({ code: 'invalid_response' });
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain('at-SECRET-1');
  });

  it('keeps the API key out of sight of the client object and refuses one that is not a key', async () => {
    vault.answers = [tokenAnswer('c-1', 'tok', 600)];
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: KEY });
    await vc.getToken('c-1');
    expect(`${JSON.stringify(vc)} ${Object.keys(vc).join()}`).not.toContain(KEY);
    expect(inspect(vc, { depth: 5, showHidden: true })).not.toContain(KEY);
    expect(() => new VaultClient({ baseUrl: vault.url, apiKey: 'has space' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('has space') }),
    );
  });

  it('wraps the other calls: connection, pages, events, refresh, import, grant', async () => {
    const page = (ids: string[], next: string | null) => ({
      status: 200,
      body: { data: ids.map((id) => ({ id })), next_cursor: next },
    });
    vault.answers = [page(['a', 'b'], 'cur-1'), page(['c'], null)];
    const vc = new VaultClient({ baseUrl: vault.url, apiKey: KEY });
    const ids: string[] = [];
    for await (const c of vc.connections({ status: 'needs_reauth', provider: 'google', limit: 2 }))
      ids.push(c.id);
    expect(ids).toEqual(['a', 'b', 'c']);
    expect(vault.seen.map((s) => s.url)).toEqual([
      '/v1/connections?status=needs_reauth&provider=google&limit=2',
      '/v1/connections?status=needs_reauth&provider=google&limit=2&cursor=cur-1',
    ]);
    vault.answers = [{ status: 200, body: { id: 'x/y' } }];
    await vc.getConnection('x/y');
    await vc.listEvents('x/y', { limit: 5 });
    await vc.replaceGrant('x/y', { refresh_token: 'rt-1' });
    await vc.importConnection({ integration: 'i', tenant_id: 't', refresh_token: 'rt-2' });
    expect(vault.seen.slice(2).map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      'GET /v1/connections/x%2Fy ',
      'GET /v1/connections/x%2Fy/events?limit=5 ',
      'PUT /v1/connections/x%2Fy/grant {"refresh_token":"rt-1"}',
      'POST /v1/connections {"integration":"i","tenant_id":"t","refresh_token":"rt-2"}',
    ]);
  });
});
