import type { RefreshFailureWrite, RefreshRow } from '@vault/persistence';
import type { ProviderFailure } from '@vault/providers';
import { loadConfig } from '../../config/vault-config';
import type { OutcomePorts } from '../refresh-outcome';
import type { RefreshEvents } from '../refresh.types';

/** Test doubles of the refresh engine's ports, for the unit tier only (integration specs use real peers). */

export const T0 = Date.parse('2026-06-01T12:00:00.000Z');
export const unitConfig = loadConfig({ NODE_ENV: 'test' });

export function rowOf(
  overrides: Partial<RefreshRow> = {},
  integration: Partial<RefreshRow['integration']> = {},
): RefreshRow {
  return {
    id: 'c1',
    tenantId: 'tenant-1',
    status: 'active',
    version: 3,
    refreshTokenSealed: Buffer.from('sealed-rt'),
    accessTokenExpiresAt: new Date(T0 - 60_000),
    nextRefreshAt: new Date(T0 - 1_000),
    refreshFailures: 0,
    scopes: [],
    lastError: null,
    lastRefreshedAt: null,
    updatedAt: new Date(T0 - 3_600_000),
    hasOpenAttempts: false,
    ...overrides,
    integration: {
      id: 'i1',
      key: 'acme',
      provider: 'oauth2',
      status: 'ok',
      clientId: 'client',
      clientSecretSealed: Buffer.from('sealed-secret'),
      previousClientSecretSealed: null,
      previousSecretValidUntil: null,
      clientAuth: 'client_secret_post',
      tokenUrl: 'https://idp.example/token',
      authorizeUrl: null,
      revokeUrl: null,
      refreshMarginSeconds: null,
      requestTimeoutMs: null,
      ...integration,
    },
  };
}

export function failureOf(
  f: Partial<ProviderFailure> & Pick<ProviderFailure, 'class' | 'code'>,
): ProviderFailure {
  return { httpStatus: null, ambiguous: false, ...f };
}

/**
 * In-memory ports with the persistence semantics outcome handling relies on: failure writes are fenced by
 * version (a stale write applies nothing), credentials are rejected once, everything done is recorded.
 */
export function fakePorts(current: RefreshRow | null, clock: () => number = () => T0) {
  const state = {
    current,
    failures: [] as RefreshFailureWrite[],
    finished: [] as { id: string; outcome: string }[],
    rescheduled: [] as { id: string; version: number; at: Date }[],
    rejected: [] as { integrationId: string; reason: string }[],
    slowedDown: [] as { integrationId: string; seconds: number }[],
    counted: [] as string[],
    needsReauth: [] as Parameters<RefreshEvents['needsReauth']>[0][],
    integrationRejected: [] as Parameters<RefreshEvents['integrationRejected']>[0][],
  };
  const ports: OutcomePorts = {
    repo: {
      load: (id) => Promise.resolve(state.current?.id === id ? state.current : null),
      applyFailure: (f) => {
        const applies = state.current?.id === f.id && state.current.version === f.version;
        if (applies) state.failures.push(f);
        return Promise.resolve(applies);
      },
    },
    attempts: {
      finish: (id, outcome) => {
        state.finished.push({ id, outcome });
        return Promise.resolve();
      },
    },
    schedule: {
      reschedule: (id, version, at) => {
        state.rescheduled.push({ id, version, at });
        return Promise.resolve();
      },
    },
    integrations: {
      markCredentialsRejected: (integrationId, reason) => {
        const first = !state.rejected.some((r) => r.integrationId === integrationId);
        state.rejected.push({ integrationId, reason });
        return Promise.resolve(first);
      },
    },
    cipher: { seal: (plaintext: string) => Promise.resolve(Buffer.from(`sealed:${plaintext}`)) },
    rateLimits: {
      slowDown: (integrationId, seconds) => {
        state.slowedDown.push({ integrationId, seconds });
        return Promise.resolve();
      },
    },
    count: (_row, trigger, outcome) => state.counted.push(`${trigger}:${outcome}`),
    events: {
      needsReauth: (e) => state.needsReauth.push(e),
      integrationRejected: (e) => state.integrationRejected.push(e),
    },
    config: unitConfig,
    clock,
    random: () => 0,
  };
  return { ports, state };
}
