import { startTestApi, type TestApi } from '../utils/api';

/** Changes to an integration are a platform power, recorded as events: who, what (never a secret), when. */
describe('integration changes are recorded, and the secret follows the URL (API over HTTP)', () => {
  let api: TestApi;
  let adminKeyId: string;
  let opsKey: string;
  let opsKeyId: string;
  const integration = {
    key: 'crm',
    provider: 'oauth2',
    client_id: 'client-1',
    client_secret: 'SECRET-ORIGINAL-0001',
    token_url: 'http://127.0.0.1:9/token',
    revoke_url: 'http://127.0.0.1:9/revoke',
  };
  type Event = {
    id: string;
    type: string;
    integration_id: string;
    actor_key_id: string | null;
    changes: Record<string, unknown>;
    created_at: string;
  };
  const events = async (key = 'crm'): Promise<Event[]> => {
    const res = await api.call('GET', `/v1/integrations/${key}/events?limit=100`);
    expect(res.status).toBe(200);
    expect(res.raw).not.toMatch(/SECRET-/);
    return res.body.data as Event[];
  };

  beforeAll(async () => {
    api = await startTestApi();
    adminKeyId = ((await api.call('GET', '/v1/api-keys')).body.data as { id: string; name: string }[]).find(
      (k) => k.name === 'bootstrap',
    )?.id as string;
    const ops = await api.call('POST', '/v1/api-keys', { name: 'ops', scopes: ['integrations:write'] });
    opsKey = ops.body.key as string;
    opsKeyId = ops.body.id as string;
    expect((await api.call('POST', '/v1/integrations', integration)).status).toBe(201);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('records the creation with its settings and the key that made it, never the secret', async () => {
    const [created] = await events();
    expect(created).toMatchObject({
      type: 'created',
      actor_key_id: adminKeyId,
      changes: {
        provider: 'oauth2',
        client_id: 'client-1',
        token_url: integration.token_url,
        revoke_url: integration.revoke_url,
        authorize_url: null,
      },
    });
    expect(Date.parse(created?.created_at ?? '')).not.toBeNaN();
  });

  it.each([
    ['token_url', { token_url: 'http://127.0.0.1:1/steal' }],
    ['revoke_url', { revoke_url: 'http://127.0.0.1:1/steal' }],
    ['revoke_url (to the default)', { revoke_url: null }],
  ])(
    'refuses to move %s without the client secret (400 naming client_secret); nothing changes',
    async (_, patch) => {
      const before = await events();
      const res = await api.call('PATCH', '/v1/integrations/crm', patch, opsKey);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', field: 'client_secret' });
      const now = (await api.call('GET', '/v1/integrations/crm')).body as Record<string, unknown>;
      expect([now.token_url, now.revoke_url]).toEqual([integration.token_url, integration.revoke_url]);
      expect(await events()).toEqual(before);
    },
  );

  it('moves the token URL with a new secret, and records old and new URL and "rotated" for the secret', async () => {
    const res = await api.call(
      'PATCH',
      '/v1/integrations/crm',
      { token_url: 'http://127.0.0.1:9/token2', client_secret: 'SECRET-NEW-0002', scopes: ['a'] },
      opsKey,
    );
    expect(res.status).toBe(200);
    expect(res.raw).not.toContain('SECRET-');
    const [latest] = await events();
    expect(latest).toMatchObject({
      type: 'updated',
      actor_key_id: opsKeyId,
      changes: {
        fields: ['token_url', 'scopes', 'client_secret'],
        token_url: { old: integration.token_url, new: 'http://127.0.0.1:9/token2' },
        scopes: { old: [], new: ['a'] },
        client_secret: 'rotated',
      },
    });
  });

  it('records client ID changes, secret rotations and authorize URL changes; a no-op change records nothing', async () => {
    const count = (await events()).length;
    expect(
      (await api.call('PATCH', '/v1/integrations/crm', { token_url: 'http://127.0.0.1:9/token2' })).status,
    ).toBe(200);
    expect(await events()).toHaveLength(count);
    expect((await api.call('PATCH', '/v1/integrations/crm', { client_id: 'client-2' })).status).toBe(200);
    expect(
      (await api.call('PATCH', '/v1/integrations/crm', { client_secret: 'SECRET-THIRD-0003' })).status,
    ).toBe(200);
    expect(
      (await api.call('PATCH', '/v1/integrations/crm', { authorize_url: 'http://127.0.0.1:9/authorize' }))
        .status,
    ).toBe(200);
    const [authorize, secret, clientId] = await events();
    expect(clientId?.changes).toEqual({
      fields: ['client_id'],
      client_id: { old: 'client-1', new: 'client-2' },
    });
    expect(secret?.changes).toEqual({ fields: ['client_secret'], client_secret: 'rotated' });
    expect(authorize?.changes).toEqual({
      fields: ['authorize_url'],
      authorize_url: { old: null, new: 'http://127.0.0.1:9/authorize' },
    });
  });

  it('pages the history newest first with a cursor', async () => {
    const all = await events();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.call(
        'GET',
        `/v1/integrations/crm/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...(page.body.data as Event[]).map((e) => e.id));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));
    expect((await api.call('GET', '/v1/integrations/crm/events?cursor=abc')).body).toMatchObject({
      field: 'cursor',
    });
    expect((await api.call('GET', '/v1/integrations/crm/events?limit=501')).body).toMatchObject({
      field: 'limit',
    });
    expect((await api.call('GET', '/v1/integrations/nope/events')).status).toBe(404);
  });

  it('keeps the history after deletion, and shows a re-created integration of the same key after it', async () => {
    const before = await events();
    expect((await api.call('DELETE', '/v1/integrations/crm', undefined, opsKey)).status).toBe(204);
    const [deleted] = await events();
    expect(deleted).toMatchObject({
      type: 'deleted',
      actor_key_id: opsKeyId,
      integration_id: before[0]?.integration_id,
      changes: { token_url: 'http://127.0.0.1:9/token2', client_id: 'client-2' },
    });
    expect(
      (await api.call('POST', '/v1/integrations', { ...integration, token_url: 'http://127.0.0.1:2/t' }))
        .status,
    ).toBe(201);
    const after = await events();
    expect(after.map((e) => e.type)).toEqual(['created', 'deleted', ...before.map((e) => e.type)]);
    expect(after[0]?.integration_id).not.toBe(before[0]?.integration_id);
  });
});
