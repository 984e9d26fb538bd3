import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { VaultConfig } from '@vault/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApiApp } from '../../apps/vault-api/src/create-app';
import { createWorkerApp } from '../../apps/vault-worker/src/create-worker';
import { injectCaller, type TestApi } from './api';
import { testConfig } from './config';

/** Helpers shared by the refresh scenarios. */

/** A worker in this process sharing an API's database, Redis prefix and master key, started. */
export async function startInProcessWorker(
  api: { config: VaultConfig },
  env: Record<string, string> = {},
): Promise<NestFastifyApplication> {
  const worker = await createWorkerApp(
    testConfig({
      ...env,
      DATABASE_URL: api.config.DATABASE_URL,
      REDIS_PREFIX: api.config.REDIS_PREFIX,
      LOCAL_KMS_KEY: api.config.LOCAL_KMS_KEY ?? '',
      WORKER_PORT: '0',
    }),
  );
  await worker.init();
  return worker;
}
export async function createIntegration(
  api: { call: TestApi['call'] },
  body: Record<string, unknown>,
): Promise<void> {
  const res = await api.call('POST', '/v1/integrations', body);
  if (res.status !== 201) throw new Error(`integration not created: ${res.status} ${res.raw}`);
}

/** A token endpoint the tests run: oidc-provider (`startOAuthServer`) or a provider emulator. */
export interface TokenPeer {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  revokeUrl: string;
}

/** The body that registers an integration of `provider` pointing at a test peer. */
export function peerIntegration(
  peer: TokenPeer,
  key: string,
  provider = 'oauth2',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    key,
    provider,
    client_id: peer.clientId,
    client_secret: peer.clientSecret,
    token_url: peer.tokenUrl,
    revoke_url: peer.revokeUrl,
    ...extra,
  };
}

/** The integration the refresh scenarios register against the test authorization server (oidc-provider). */
export function oidcIntegration(server: TokenPeer): Record<string, unknown> {
  return peerIntegration(server, 'oidc', 'oauth2', { client_auth: 'client_secret_post' });
}

/** Imports a grant whose access token is already expired (or absent): the next read must refresh. */
export async function importStale(
  api: { call: TestApi['call'] },
  integration: string,
  refreshToken: string,
  externalId: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await api.call('POST', '/v1/connections', {
    integration,
    tenant_id: 'tenant-1',
    external_id: externalId,
    refresh_token: refreshToken,
    access_token: `stale-${externalId}`,
    expires_at: new Date(Date.now() - 60_000).toISOString(),
    ...extra,
  });
  if (res.status !== 201) throw new Error(`connection not imported: ${res.status} ${res.raw}`);
  return res.body.id as string;
}

/** Imports a grant whose access token is still valid for `ttlSeconds`: only a forced refresh calls the provider. */
export async function importValid(
  api: { call: TestApi['call'] },
  integration: string,
  refreshToken: string,
  externalId: string,
  ttlSeconds = 3600,
): Promise<string> {
  const res = await api.call('POST', '/v1/connections', {
    integration,
    tenant_id: 'tenant-1',
    external_id: externalId,
    refresh_token: refreshToken,
    access_token: `valid-${externalId}`,
    expires_in: ttlSeconds,
  });
  if (res.status !== 201) throw new Error(`connection not imported: ${res.status} ${res.raw}`);
  return res.body.id as string;
}

/** The types of a connection's events (up to 200). */
export async function eventTypes(api: { call: TestApi['call'] }, id: string): Promise<string[]> {
  const res = await api.call('GET', `/v1/connections/${id}/events?limit=200`);
  return (res.body.data as { type: string }[]).map((e) => e.type);
}

/** The connection is flagged for re-consent because the provider refused its refresh token (invalid_grant). */
export async function expectFlaggedInvalidGrant(api: { call: TestApi['call'] }, id: string): Promise<void> {
  const conn = await api.call('GET', `/v1/connections/${id}`);
  expect(conn.body).toMatchObject({
    status: 'needs_reauth',
    status_reason: 'invalid_grant',
    next_refresh_at: null,
  });
  expect(conn.body.last_error).toMatchObject({
    class: 'reauth_required',
    code: 'invalid_grant',
    http_status: 400,
  });
}

export async function query<T = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** HTTP helper against a real process. */
export function httpCaller(baseUrl: string, key: string): TestApi['call'] {
  return async (method, url, body, k = key) => {
    const headers: Record<string, string> = {};
    if (k !== null) headers.authorization = `Bearer ${k}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(baseUrl + url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const raw = await res.text();
    let parsed: unknown;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: Object.fromEntries(res.headers), raw };
  };
}

/**
 * The API module graph in this process (Fastify inject) against an existing database and Redis prefix, so
 * it shares state with real worker processes started with the same environment.
 */
export async function startInProcessApi(env: Record<string, string>): Promise<{
  config: VaultConfig;
  call: TestApi['call'];
  close(): Promise<void>;
}> {
  const config = testConfig(env);
  const { app } = await createApiApp(config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return { config, call: injectCaller(app, config.BOOTSTRAP_API_KEY ?? ''), close: () => app.close() };
}

/** Deletes every Redis key under `<prefix>:` (SCAN + DEL, never FLUSHALL: other test files share the server). */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
