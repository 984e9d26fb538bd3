import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { VaultConfig } from '@vault/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { createApiApp } from '../../apps/vault-api/src/create-app';
import { testConfig } from './config';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from './database';

export interface TestApi {
  app: NestFastifyApplication;
  openapi: OpenAPIObject;
  config: VaultConfig;
  db: TestDatabase;
  adminKey: string;
  /** `app.inject` with the admin key unless another Authorization is given. */
  call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    key?: string | null,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown>; raw: string }>;
  close(): Promise<void>;
}

/**
 * Boots the real API module graph against its own database and Redis prefix, on Fastify's inject.
 * `databaseUrl` lets the API reach the (already migrated) database another way, e.g. through a TCP proxy.
 */
export async function startTestApi(
  overrides: Record<string, string> = {},
  options: { databaseUrl?: (url: string) => string } = {},
): Promise<TestApi> {
  const db = await createTestDatabase();
  const config = testConfig({
    DATABASE_URL: options.databaseUrl ? options.databaseUrl(db.url) : db.url,
    REDIS_PREFIX: testRedisPrefix(),
    ...overrides,
  });
  const { app, openapi } = await createApiApp(config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const adminKey = config.BOOTSTRAP_API_KEY ?? '';
  return {
    app,
    openapi,
    config,
    db,
    adminKey,
    call: injectCaller(app, adminKey),
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** `app.inject` with `adminKey` unless another Authorization is given (null: none); the body parsed if JSON. */
export function injectCaller(app: NestFastifyApplication, adminKey: string): TestApi['call'] {
  return async (method, url, body, key = adminKey) => {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const res = await app.inject({
      method,
      url,
      headers,
      ...(body === undefined ? {} : { payload: body as object }),
    });
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      // not JSON: leave the body undefined, the raw text is in `raw`
    }
    return { status: res.statusCode, body: parsed, headers: res.headers, raw: res.body };
  };
}
