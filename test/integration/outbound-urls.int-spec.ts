import { startTestApi, type TestApi } from '../utils/api';
import { startKmsEmulator, type KmsEmulator } from '../utils/kms-emulator';
import { startGoogleEmulator, type Emulator } from '../utils/provider-emulators';
import { createIntegration, importStale, query } from '../utils/refresh-fixtures';

/**
 * The outbound URL rules (design 6b) through the real API: checked when an integration's URLs are set (400
 * naming the field, nothing stored) and again when the vault calls them (a row stored before the rules, or
 * under another configuration, is refused without sending anything and without crashing).
 */

function expectRefused(res: Awaited<ReturnType<TestApi['call']>>, field: string): void {
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error: 'validation_failed', field });
}

describe('outbound URL rules in development and test', () => {
  let api: TestApi;
  let google: Emulator;

  beforeAll(async () => {
    google = await startGoogleEmulator();
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
    await google?.close();
  });

  const base = (key: string) => ({
    key,
    provider: 'oauth2',
    client_id: 'client',
    client_secret: 'client-secret',
  });

  it.each([
    ['token_url', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['revoke_url', 'http://[fe80::1]/'],
    ['token_url', 'http://2852039166/token'], // 169.254.169.254 in decimal
    ['token_url', 'http://0xa9fea9fe/token'], // ... and in hex
    ['revoke_url', 'https://[::ffff:169.254.169.254]/revoke'],
    ['authorize_url', 'https://169.254.169.254./authorize'],
    ['token_url', 'https://metadata.google.internal/computeMetadata/v1/'],
    ['token_url', 'http://10.0.0.1/token'], // plain http only towards loopback
    ['revoke_url', 'http://0.0.0.0:4000/revoke'],
  ])('POST /v1/integrations with %s %s → 400 naming the field, nothing stored', async (field, url) => {
    const key = `bad-${field}-${Math.random().toString(36).slice(2, 8)}`;
    const body: Record<string, unknown> = { ...base(key), token_url: 'https://idp.example.test/token' };
    body[field] = url;
    const res = await api.call('POST', '/v1/integrations', body);
    expectRefused(res, field);
    expect(res.raw).not.toContain(url);
    expect((await api.call('GET', `/v1/integrations/${key}`)).status).toBe(404);
  });

  it('allows loopback http (local peers, emulators) and public https', async () => {
    await createIntegration(api, {
      ...base('local-ok'),
      token_url: google.tokenUrl,
      revoke_url: google.revokeUrl,
    });
    await createIntegration(api, {
      ...base('public-ok'),
      token_url: 'https://8.8.8.8/token',
      authorize_url: 'https://accounts.example.test/authorize',
    });
  });

  it('PATCH /v1/integrations/:key checks the URLs it changes and keeps the stored ones', async () => {
    await createIntegration(api, { ...base('patched'), token_url: google.tokenUrl });
    expectRefused(
      await api.call('PATCH', '/v1/integrations/patched', { token_url: 'http://169.254.169.254/token' }),
      'token_url',
    );
    expectRefused(
      await api.call('PATCH', '/v1/integrations/patched', { revoke_url: 'http://[fe80::1%25eth0]/' }),
      'revoke_url',
    );
    expectRefused(
      await api.call('PATCH', '/v1/integrations/patched', { authorize_url: 'https://[fe80::abcd]/a' }),
      'authorize_url',
    );
    const after = await api.call('GET', '/v1/integrations/patched');
    expect(after.body).toMatchObject({ token_url: google.tokenUrl, revoke_url: null, authorize_url: null });
    expect(
      // Moving a URL the secret is sent to needs the secret in the same change (access: secret follows URL).
      (
        await api.call('PATCH', '/v1/integrations/patched', {
          revoke_url: google.revokeUrl,
          client_secret: 'client-secret',
        })
      ).status,
    ).toBe(200);
  });

  it('when called: URLs stored before the rules are refused without sending anything, never a crash', async () => {
    await createIntegration(api, {
      ...base('stored-earlier'),
      provider: 'google',
      client_id: google.clientId,
      client_secret: google.clientSecret,
      token_url: google.tokenUrl,
      revoke_url: google.revokeUrl,
    });
    const id = await importStale(api, 'stored-earlier', google.issue(), 'ext-earlier', {
      tenant_id: 'tenant-1',
    });
    // As a row written by an older release (or by hand) would hold them.
    await query(
      api.db.url,
      `UPDATE integrations SET token_url = 'http://169.254.169.254/latest/meta-data/', revoke_url = 'http://[fe80::1]/'
        WHERE key = 'stored-earlier'`,
    );
    const calls = google.calls;

    const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ outcome: 'integration_error' });
    const conn = (await api.call('GET', `/v1/connections/${id}`)).body;
    expect(conn.last_error).toMatchObject({
      class: 'integration_error',
      code: 'outbound_url_refused',
      sub_code: 'forbidden_address',
      http_status: null,
    });
    const events = (await api.call('GET', `/v1/connections/${id}/events`)).body.data as {
      type: string;
      detail: Record<string, unknown>;
    }[];
    expect(events.find((e) => e.type === 'refresh_failed')?.detail).toMatchObject({
      code: 'outbound_url_refused',
      sub_code: 'forbidden_address',
    });

    // Deleting revokes at the provider first: the refused revocation is a failed one, the delete goes on.
    const deleted = await api.call('DELETE', `/v1/connections/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ deleted: true, provider_revocation: 'failed' });
    expect(google.calls).toBe(calls);
    expect((await api.call('GET', '/health/ready')).status).toBe(200);
  });

  it('a refused token URL holds the integration back until the URL is changed', async () => {
    await createIntegration(api, {
      ...base('fixed-later'),
      provider: 'google',
      client_id: google.clientId,
      client_secret: google.clientSecret,
      token_url: google.tokenUrl,
    });
    const id = await importStale(api, 'fixed-later', google.issue(), 'ext-fixed');
    await query(
      api.db.url,
      `UPDATE integrations SET token_url = 'http://[fe80::1]/token' WHERE key = 'fixed-later'`,
    );
    expect((await api.call('POST', `/v1/connections/${id}/refresh`)).body).toMatchObject({
      outcome: 'integration_error',
    });
    expect((await api.call('GET', '/v1/integrations/fixed-later')).body).toMatchObject({
      status: 'credentials_rejected',
      status_reason: 'outbound_url_refused:forbidden_address',
    });
    const calls = google.calls;
    expect(
      (
        await api.call('PATCH', '/v1/integrations/fixed-later', {
          token_url: google.tokenUrl,
          client_secret: google.clientSecret,
        })
      ).body,
    ).toMatchObject({ status: 'ok', status_reason: null });
    expect((await api.call('POST', `/v1/connections/${id}/refresh`)).body).toMatchObject({
      outcome: 'success',
    });
    expect(google.calls).toBe(calls + 1);
  });
});

describe('outbound URL rules with NODE_ENV=production', () => {
  let api: TestApi;
  let kms: KmsEmulator;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    kms = await startKmsEmulator();
    // The AWS SDK reads credentials from the environment; the emulator does not check them.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'dummy-secret';
    api = await startTestApi({
      NODE_ENV: 'production',
      KMS_DRIVER: 'aws',
      KMS_KEY_ID: kms.alias,
      KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: kms.region,
      LOCAL_KMS_KEY: '',
      ALLOWED_PRIVATE_HOSTS: 'idp.localhost, 10.20.30.40',
    });
  });
  afterAll(async () => {
    await api?.close();
    await kms?.close();
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  });

  const create = (key: string, urls: Record<string, string>) =>
    api.call('POST', '/v1/integrations', {
      key,
      provider: 'oauth2',
      client_id: 'client',
      client_secret: 'client-secret',
      ...urls,
    });

  it('refuses plain http, even to loopback', async () => {
    expectRefused(await create('p-http-loopback', { token_url: 'http://127.0.0.1:4000/token' }), 'token_url');
    expectRefused(
      await create('p-http-localhost', { token_url: 'http://localhost:4000/token' }),
      'token_url',
    );
    expectRefused(await create('p-http-public', { token_url: 'http://8.8.8.8/token' }), 'token_url');
    expect((await create('p-http-public', { token_url: 'http://8.8.8.8/token' })).body.message).toMatch(
      /https/,
    );
  });

  it('refuses loopback and private hosts not listed in ALLOWED_PRIVATE_HOSTS', async () => {
    expectRefused(await create('p-loop', { token_url: 'https://127.0.0.1/token' }), 'token_url');
    expectRefused(await create('p-loop6', { token_url: 'https://[::1]/token' }), 'token_url');
    expectRefused(await create('p-localhost', { token_url: 'https://localhost/token' }), 'token_url');
    expectRefused(
      await create('p-10', { revoke_url: 'https://10.0.0.1/revoke', token_url: 'https://8.8.8.8/t' }),
      'revoke_url',
    );
    expectRefused(await create('p-cgnat', { token_url: 'https://100.64.0.1/token' }), 'token_url');
    expectRefused(await create('p-ula', { token_url: 'https://[fd00::1]/token' }), 'token_url');
    const res = await create('p-192', { token_url: 'https://192.168.1.1/token' });
    expectRefused(res, 'token_url');
    expect(res.body.message).toMatch(/ALLOWED_PRIVATE_HOSTS/);
  });

  it('allows the listed hosts and public https hosts; link-local stays refused even when listed', async () => {
    expect((await create('p-listed-name', { token_url: 'https://idp.localhost:8443/token' })).status).toBe(
      201,
    );
    expect((await create('p-listed-ip', { token_url: 'https://10.20.30.40/token' })).status).toBe(201);
    expect((await create('p-public', { token_url: 'https://8.8.8.8/token' })).status).toBe(201);
    expectRefused(await create('p-meta', { token_url: 'https://169.254.169.254/token' }), 'token_url');
    expectRefused(await create('p-other-private', { token_url: 'https://10.20.30.41/token' }), 'token_url');
  });

  it('when called: a loopback http URL stored earlier is refused in production, nothing sent', async () => {
    const google = await startGoogleEmulator();
    try {
      expect((await create('p-called', { token_url: 'https://8.8.8.8/token' })).status).toBe(201);
      await query(
        api.db.url,
        `UPDATE integrations SET provider = 'google', client_id = $1, token_url = $2 WHERE key = 'p-called'`,
        [google.clientId, google.tokenUrl],
      );
      const id = await importStale(api, 'p-called', google.issue(), 'ext-prod');
      const forced = await api.call('POST', `/v1/connections/${id}/refresh`);
      expect(forced.body).toMatchObject({ outcome: 'integration_error' });
      expect((await api.call('GET', `/v1/connections/${id}`)).body.last_error).toMatchObject({
        code: 'outbound_url_refused',
        sub_code: 'https_required',
      });
      expect(google.calls).toBe(0);
    } finally {
      await google.close();
    }
  });
});
