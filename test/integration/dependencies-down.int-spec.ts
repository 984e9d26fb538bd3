import { startTestApi, type TestApi } from '../utils/api';
import { startKmsEmulator, type KmsEmulator } from '../utils/kms-emulator';
import { startOAuthServer, type OAuthServer } from '../utils/oauth-server';
import {
  createIntegration,
  importStale,
  oidcIntegration,
  startInProcessApi,
  waitFor,
} from '../utils/refresh-fixtures';
import { hostPort, startTcpProxy, type TcpProxy } from '../utils/tcp-proxy';

type Answer = Awaited<ReturnType<TestApi['call']>>;

function expectUnavailable(res: Answer): void {
  expect({ status: res.status, error: res.body?.error }).toEqual({ status: 503, error: 'unavailable' });
  expect(res.body.retry_after).toBeGreaterThan(0);
  expect(res.headers['retry-after']).toBe(String(res.body.retry_after));
}

async function importFresh(api: { call: TestApi['call'] }, externalId: string): Promise<string> {
  const res = await api.call('POST', '/v1/connections', {
    integration: 'oidc',
    tenant_id: 'tenant-1',
    external_id: externalId,
    refresh_token: `rt-${externalId}`,
    access_token: `at-${externalId}`,
    expires_in: 3600,
  });
  if (res.status !== 201) throw new Error(`not imported: ${res.status} ${res.raw}`);
  return res.body.id as string;
}

/** Design 6b: Redis or the KMS down → 503 `unavailable` with Retry-After, promptly; never 500, never a hang. */
describe('Redis unreachable', () => {
  const REDIS_URL = 'redis://127.0.0.1:6379';
  let server: OAuthServer;
  let proxy: TcpProxy;
  let api: TestApi;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    proxy = await startTcpProxy(hostPort(REDIS_URL, 6379));
    api = await startTestApi({ REDIS_URL: proxy.url(REDIS_URL), PROVIDER_TIMEOUT_MS: '5000' });
    await createIntegration(api, oidcIntegration(server));
  });
  afterAll(async () => {
    proxy?.restore();
    await api?.close();
    await proxy?.close();
    await server?.close();
  });

  it('stored valid tokens are served; reads that need a refresh and forced refreshes answer 503 at once; nothing is flagged', async () => {
    const fresh = await importFresh(api, 'fresh');
    const stale = await importStale(api, 'oidc', await server.mintRefreshToken('stale'), 'stale');
    const calls = server.tokenCalls;
    proxy.cut();

    for (let i = 0; i < 20; i++) {
      const read = await api.call('GET', `/v1/connections/${fresh}/token`);
      expect(read.status).toBe(200);
      expect(read.body.access_token).toBe('at-fresh');
    }
    const started = Date.now();
    expectUnavailable(await api.call('GET', `/v1/connections/${stale}/token`));
    expectUnavailable(await api.call('POST', `/v1/connections/${stale}/refresh`));
    // Bounded by REDIS_COMMAND_TIMEOUT_MS (1 s) per command, far from the 23 s seen before.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.tokenCalls).toBe(calls);
    expect((await api.call('GET', `/v1/connections/${stale}`)).body.status).toBe('active');

    proxy.restore();
    const back = await waitFor(
      'a refreshed read once Redis is back',
      async () => {
        const read = await api.call('GET', `/v1/connections/${stale}/token`);
        return read.status === 200 ? read : null;
      },
      20_000,
      250,
    );
    expect(await server.accepts(back.body.access_token as string)).toBe(true);
  });
});

describe('KMS unreachable', () => {
  let server: OAuthServer;
  let kms: KmsEmulator;
  let api: TestApi;
  let cold: Awaited<ReturnType<typeof startInProcessApi>> | undefined;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  let kmsEnv: Record<string, string>;

  beforeAll(async () => {
    server = await startOAuthServer({ rotate: true, accessTokenTtl: 600 });
    kms = await startKmsEmulator();
    // The AWS SDK reads credentials from the environment; the emulator does not check them.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'dummy-secret';
    kmsEnv = {
      KMS_DRIVER: 'aws',
      KMS_KEY_ID: kms.alias,
      KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: kms.region,
      LOCAL_KMS_KEY: '',
      PROVIDER_TIMEOUT_MS: '5000',
    };
    api = await startTestApi(kmsEnv);
    await createIntegration(api, oidcIntegration(server));
  });
  afterAll(async () => {
    kms?.setDown(false);
    await cold?.close();
    await api?.close();
    await kms?.close();
    await server?.close();
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  });

  it('an instance with its data keys cached goes on; a cold one answers 503 unavailable promptly, and recovers with the KMS', async () => {
    const fresh = await importFresh(api, 'fresh');
    const stale = await importStale(api, 'oidc', await server.mintRefreshToken('k-stale'), 'k-stale');
    const staleCold = await importStale(api, 'oidc', await server.mintRefreshToken('k-cold'), 'k-cold');
    cold = await startInProcessApi({
      ...kmsEnv,
      DATABASE_URL: api.config.DATABASE_URL,
      REDIS_PREFIX: api.config.REDIS_PREFIX,
      BOOTSTRAP_API_KEY: api.adminKey,
    });
    kms.setDown(true);

    // Warm: reads and refreshes with cached data keys.
    expect((await api.call('GET', `/v1/connections/${fresh}/token`)).status).toBe(200);
    const refreshed = await api.call('GET', `/v1/connections/${stale}/token`);
    expect(refreshed.status).toBe(200);
    expect(await server.accepts(refreshed.body.access_token as string)).toBe(true);

    // Cold: the data key cannot be unwrapped.
    const started = Date.now();
    expectUnavailable(await cold.call('GET', `/v1/connections/${fresh}/token`));
    expectUnavailable(await cold.call('POST', `/v1/connections/${staleCold}/refresh`));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await api.call('GET', `/v1/connections/${staleCold}`)).body.status).toBe('active');

    kms.setDown(false);
    expect((await cold.call('GET', `/v1/connections/${fresh}/token`)).body.access_token).toBe('at-fresh');
    expect((await cold.call('POST', `/v1/connections/${staleCold}/refresh`)).body.outcome).toBe('success');
    expect(server.reuseDetections).toBe(0);
  });
});
