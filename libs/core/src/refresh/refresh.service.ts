import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { fingerprint, type EnvelopeCipher } from '@vault/crypto';
import type {
  ConnectionLastError,
  ConnectionStatus,
  ConnectionsRepository,
  RefreshRepository,
  RefreshRow,
  RefreshTrigger,
  TokenRow,
} from '@vault/persistence';
import {
  CATALOGUE,
  resolveEndpoints,
  type FailureClass,
  type ProviderFailure,
  type ProviderName,
  type ProviderRegistry,
  type RefreshResult,
} from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';
import type { MetricsService } from '../metrics/metrics.service';
import type { RedisService } from '../redis/redis.service';
import { isFresh, type OnDemandRefresher } from '../tokens/token.service';
import { backoffSeconds } from './backoff';
import { RedisLocks } from './redis-lock';
import { nextRefreshAt } from './schedule';

/** Outcomes of design section 7, plus what happens when no provider call was needed. */
export type RefreshOutcome = FailureClass | 'success';

export interface RefreshReport {
  outcome: RefreshOutcome;
  /** False when the connection was already fresh or another refresher did the work. */
  calledProvider: boolean;
  status: ConnectionStatus;
  expiresAt: Date | null;
  /** Seconds until the next attempt, for 503 answers. */
  retryAfterSeconds: number | null;
}

/** Hooks the refresher calls when a connection changes state (webhooks, pub/sub). */
export interface RefreshEvents {
  needsReauth(e: {
    connectionId: string;
    tenantId: string;
    integration: string;
    provider: string;
    reason: string;
  }): void;
  integrationRejected(e: {
    integrationId: string;
    integration: string;
    provider: string;
    reason: string;
  }): void;
}

const NO_EVENTS: RefreshEvents = { needsReauth: () => undefined, integrationRejected: () => undefined };

/**
 * The one refresh function every trigger uses (schedule, on-demand read, forced), design section 4:
 * in-process single flight → Redis lock (owner token, TTL longer than the provider timeout) → re-read under
 * the lock → journal → provider call → fenced write (conditional on the version read) → classification of
 * failures (section 5). A reader that finds the lock taken waits for the holder's result.
 */
export class RefreshService implements OnDemandRefresher {
  private readonly logger = new Logger('Refresh');
  private readonly inflight = new Map<string, Promise<RefreshReport>>();
  private readonly rateLimits = new Map<string, { until: number; checkedAt: number }>();
  private readonly locks: RedisLocks;

  constructor(
    private readonly repo: RefreshRepository,
    private readonly connections: ConnectionsRepository,
    private readonly cipher: EnvelopeCipher,
    private readonly providers: ProviderRegistry,
    private readonly redis: RedisService,
    private readonly metrics: MetricsService,
    private readonly config: VaultConfig,
    private readonly events: RefreshEvents = NO_EVENTS,
  ) {
    this.locks = new RedisLocks(redis.client, redis.prefix);
  }

  /** Refreshes (or joins the refresh of) one connection. Never throws for provider failures. */
  refresh(id: string, trigger: RefreshTrigger, minTtlSeconds = 0): Promise<RefreshReport> {
    const running = this.inflight.get(id);
    if (running) return running;
    const p = this.run(id, trigger, minTtlSeconds).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  /** The read path: make the token valid for `minTtlSeconds` or explain why not (409 / 503). */
  async refreshForRead(id: string, minTtlSeconds: number): Promise<TokenRow> {
    const report = await this.refresh(id, 'on_demand', minTtlSeconds);
    const row = await this.connections.findTokenRow(id);
    if (!row) throw VaultError.notFound('connection');
    if (isFresh(row, minTtlSeconds) || row.status === 'needs_reauth' || row.status === 'revoked') return row;
    throw new VaultError('provider_unavailable', 'the provider could not issue a fresh access token now', {
      retry_after: Math.max(1, Math.min(300, Math.ceil(report.retryAfterSeconds ?? 5))),
      outcome: report.outcome,
    });
  }

  private timeoutFor(integrationTimeout: number | null): number {
    return integrationTimeout ?? this.config.PROVIDER_TIMEOUT_MS;
  }

  private async run(id: string, trigger: RefreshTrigger, minTtlSeconds: number): Promise<RefreshReport> {
    // The lock outlives the longest provider call (timeout, plus a possible quick retry) with a margin.
    const lockTtlMs = 2 * this.config.PROVIDER_TIMEOUT_MS + 5_000;
    for (let round = 0; round < 3; round++) {
      const lock = await this.locks.tryAcquire(id, lockTtlMs);
      if (lock) {
        try {
          return await this.underLock(id, trigger, minTtlSeconds);
        } finally {
          await lock
            .release()
            .catch((err: unknown) => this.logger.warn({ err, connectionId: id }, 'lock release failed'));
        }
      }
      // Someone else is refreshing this connection: never call the provider beside them.
      const before = await this.mustLoad(id);
      if (trigger === 'scheduled') return this.reportFromRow(before, 'success', false, null);
      await this.waitForRelease(id, lockTtlMs);
      const after = await this.mustLoad(id);
      if (after.status === 'needs_reauth' || after.status === 'revoked') {
        return this.reportFromRow(after, 'reauth_required', false, null);
      }
      if (trigger === 'on_demand' ? this.freshFor(after, minTtlSeconds) : after.version !== before.version) {
        return this.reportFromRow(after, 'success', false, null);
      }
      if (after.updatedAt.getTime() !== before.updatedAt.getTime()) {
        // The holder tried and failed: its outcome stands, and its backoff is not to be bypassed by readers.
        const retryIn = after.nextRefreshAt
          ? Math.max(1, (after.nextRefreshAt.getTime() - Date.now()) / 1000)
          : 5;
        const outcome = (after.lastError?.class as RefreshOutcome | undefined) ?? 'transient';
        return this.reportFromRow(after, outcome, false, retryIn);
      }
      // The holder changed nothing (it found the work already done, by its own measure): try ourselves.
    }
    return this.reportFromRow(await this.mustLoad(id), 'transient', false, 5);
  }

  private async waitForRelease(id: string, maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    let delay = 20;
    while (Date.now() < until && (await this.locks.isHeld(id))) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  private freshFor(row: RefreshRow, minTtlSeconds: number): boolean {
    return (
      row.accessTokenExpiresAt !== null &&
      row.accessTokenExpiresAt.getTime() - Date.now() >= minTtlSeconds * 1000
    );
  }

  private async mustLoad(id: string): Promise<RefreshRow> {
    const row = await this.repo.load(id);
    if (!row) throw VaultError.notFound('connection');
    return row;
  }

  private reportFromRow(
    row: RefreshRow,
    outcome: RefreshOutcome,
    calledProvider: boolean,
    retryAfterSeconds: number | null,
  ): RefreshReport {
    return {
      outcome,
      calledProvider,
      status: row.status,
      expiresAt: row.accessTokenExpiresAt,
      retryAfterSeconds,
    };
  }

  private async underLock(
    id: string,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
  ): Promise<RefreshReport> {
    const row = await this.mustLoad(id);
    if (row.status === 'needs_reauth' || row.status === 'revoked')
      return this.reportFromRow(row, 'reauth_required', false, null);
    const now = Date.now();
    if (trigger === 'on_demand' && this.freshFor(row, minTtlSeconds))
      return this.reportFromRow(row, 'success', false, null);
    if (
      trigger === 'scheduled' &&
      (row.nextRefreshAt === null || row.nextRefreshAt.getTime() > now + 5_000)
    ) {
      return this.reportFromRow(row, 'success', false, null);
    }

    const integration = row.integration;
    const provider = integration.provider as ProviderName;
    if (integration.status === 'credentials_rejected') {
      // Calling again with credentials the provider refused would not help; wait for a new client secret.
      return this.recordFailure(
        row,
        null,
        trigger,
        {
          class: 'integration_error',
          code: 'credentials_rejected',
          httpStatus: null,
          ambiguous: false,
        },
        false,
      );
    }
    const limitedFor = await this.rateLimitedFor(integration.id);
    if (limitedFor > 0) {
      return this.recordFailure(
        row,
        null,
        trigger,
        {
          class: 'rate_limited',
          code: 'provider_slowed_down',
          httpStatus: null,
          ambiguous: false,
          retryAfterSeconds: limitedFor,
        },
        false,
      );
    }

    if (row.hasOpenAttempts) await this.recoverInterruptedAttempts(row);
    const clientSecret = await this.cipher.open(
      integration.clientSecretSealed,
      aad.integration(integration.id),
    );
    const refreshToken = await this.cipher.open(row.refreshTokenSealed, aad.connection(id, 'refresh_token'));
    const attemptId = randomUUID();
    await this.repo.startAttempt({
      id: attemptId,
      connectionId: id,
      trigger,
      connectionVersion: row.version,
      refreshTokenFingerprint: fingerprint(refreshToken),
    });

    const adapter = this.providers.get(provider);
    const entry = CATALOGUE[provider];
    const request = {
      endpoints: resolveEndpoints(entry, {
        tokenUrl: integration.tokenUrl,
        authorizeUrl: integration.authorizeUrl,
        revokeUrl: integration.revokeUrl,
      }),
      clientId: integration.clientId,
      clientSecret,
      clientAuth: integration.clientAuth as 'client_secret_post' | 'client_secret_basic',
      refreshToken,
      timeoutMs: this.timeoutFor(integration.requestTimeoutMs),
    };
    let result = await this.callProvider(provider, () => adapter.refresh(request));
    if (!result.ok && result.failure.ambiguous && (entry.graceSeconds ?? 0) > 0) {
      // The request may have reached the provider; inside its grace window the same RT works once more.
      result = await this.callProvider(provider, () => adapter.refresh(request));
    }

    if (result.ok) {
      const t = result.tokens;
      const issuedAt = Date.now();
      const ttl =
        t.expiresIn ?? entry.defaultAccessTokenTtlSeconds ?? this.config.DEFAULT_REFRESH_INTERVAL_SECONDS;
      const expiresAt = new Date(issuedAt + ttl * 1000);
      const margin = Math.min(
        integration.refreshMarginSeconds ?? this.config.REFRESH_MARGIN_SECONDS,
        Math.floor(ttl / 2),
      );
      const rotated = t.refreshToken !== null && t.refreshToken !== refreshToken;
      const applied = await this.repo.applySuccess({
        id,
        version: row.version,
        tenantId: row.tenantId,
        attemptId,
        accessTokenSealed: await this.cipher.seal(t.accessToken, aad.connection(id, 'access_token')),
        accessTokenExpiresAt: expiresAt,
        refreshTokenSealed:
          rotated && t.refreshToken
            ? await this.cipher.seal(t.refreshToken, aad.connection(id, 'refresh_token'))
            : null,
        tokenType: normaliseTokenType(t.tokenType),
        scopes: t.scopes,
        nextRefreshAt: nextRefreshAt(expiresAt, margin, new Date(issuedAt)),
        refreshTokenExpiresAt: t.refreshTokenExpiresIn
          ? new Date(issuedAt + t.refreshTokenExpiresIn * 1000)
          : null,
        eventDetail: { trigger, rotated, expires_at: expiresAt.toISOString() },
      });
      this.count(row, trigger, 'success');
      if (!applied) {
        this.logger.warn(
          { connectionId: id },
          'refresh succeeded but the grant changed meanwhile; kept the newer grant',
        );
      }
      return {
        outcome: 'success',
        calledProvider: true,
        status: 'active',
        expiresAt,
        retryAfterSeconds: null,
      };
    }
    return this.recordFailure(row, attemptId, trigger, result.failure, true);
  }

  private async callProvider(
    provider: ProviderName,
    call: () => Promise<RefreshResult>,
  ): Promise<RefreshResult> {
    const end = this.metrics.refreshDuration.startTimer({ provider });
    try {
      return await call();
    } finally {
      end();
    }
  }

  /** Attempts left open by a process that died after calling the provider: visible, closed, not looped on. */
  private async recoverInterruptedAttempts(row: RefreshRow): Promise<void> {
    const open = await this.repo.openAttempts(row.id);
    for (const a of open) {
      await this.repo.finishAttempt(a.id, 'interrupted');
      this.logger.warn(
        {
          connectionId: row.id,
          attemptId: a.id,
          startedAt: a.startedAt,
          sameGrantVersion: a.connectionVersion === row.version,
        },
        'found an interrupted refresh attempt; retrying with the stored refresh token',
      );
    }
  }

  /**
   * Seconds this integration is still slowed down for (after a 429), as Redis says; the answer is cached for
   * a second per integration so a busy worker does not pay a Redis round trip per refresh for it.
   */
  private async rateLimitedFor(integrationId: string): Promise<number> {
    const now = Date.now();
    let entry = this.rateLimits.get(integrationId);
    if (!entry || entry.checkedAt < now - 1000) {
      const until = Number(await this.redis.client.get(this.redis.key('ratelimit', integrationId))) || 0;
      entry = { until, checkedAt: now };
      this.rateLimits.set(integrationId, entry);
    }
    return entry.until > now ? (entry.until - now) / 1000 : 0;
  }

  private async slowDown(integrationId: string, seconds: number): Promise<void> {
    const ms = Math.max(1000, Math.round(seconds * 1000));
    const until = Date.now() + ms;
    this.rateLimits.set(integrationId, { until, checkedAt: Date.now() });
    await this.redis.client.set(this.redis.key('ratelimit', integrationId), String(until), 'PX', ms);
  }

  private async recordFailure(
    row: RefreshRow,
    attemptId: string | null,
    trigger: RefreshTrigger,
    failure: ProviderFailure,
    calledProvider: boolean,
  ): Promise<RefreshReport> {
    const now = Date.now();
    const lastError: ConnectionLastError = {
      class: failure.class,
      code: failure.code,
      http_status: failure.httpStatus,
      ...(failure.subCode ? { sub_code: failure.subCode } : {}),
      ...(failure.description ? { description: failure.description } : {}),
      at: new Date(now).toISOString(),
    };
    const detail: Record<string, unknown> = {
      trigger,
      ...lastError,
      ...(failure.shape ? { shape: failure.shape } : {}),
    };
    if (calledProvider) this.count(row, trigger, failure.class);

    if (failure.class === 'reauth_required') {
      // A refresh token that changed while we called the provider means we lost a race, not the grant.
      const current = await this.mustLoad(row.id);
      if (current.version !== row.version) {
        if (attemptId) await this.repo.finishAttempt(attemptId, 'race_lost');
        this.logger.warn(
          { connectionId: row.id },
          'invalid_grant after the grant changed meanwhile: a lost race, not flagged',
        );
        return this.reportFromRow(
          current,
          current.status === 'needs_reauth' ? 'reauth_required' : 'success',
          true,
          null,
        );
      }
      const reason = failure.subCode ? `${failure.code}:${failure.subCode}` : failure.code;
      const applied = await this.repo.applyFailure({
        id: row.id,
        tenantId: row.tenantId,
        version: row.version,
        attemptId,
        outcome: failure.class,
        status: 'needs_reauth',
        statusReason: reason,
        lastError,
        nextRefreshAt: null,
        incrementFailures: true,
        event: { type: 'needs_reauth', detail },
      });
      if (applied) {
        this.events.needsReauth({
          connectionId: row.id,
          tenantId: row.tenantId,
          integration: row.integration.key,
          provider: row.integration.provider,
          reason,
        });
      }
      return {
        outcome: 'reauth_required',
        calledProvider,
        status: 'needs_reauth',
        expiresAt: row.accessTokenExpiresAt,
        retryAfterSeconds: null,
      };
    }

    let waitSeconds = backoffSeconds(
      row.refreshFailures + 1,
      this.config.REFRESH_BACKOFF_BASE_SECONDS,
      this.config.REFRESH_BACKOFF_MAX_SECONDS,
    );
    if (failure.class === 'rate_limited') {
      waitSeconds = failure.retryAfterSeconds ?? waitSeconds;
      if (calledProvider) await this.slowDown(row.integration.id, waitSeconds);
    }
    if (failure.class === 'integration_error' && calledProvider) {
      const reason = failure.subCode ? `${failure.code}:${failure.subCode}` : failure.code;
      if (await this.repo.rejectIntegration(row.integration.id, reason)) {
        this.logger.error(
          { integration: row.integration.key, reason },
          'the provider rejected the integration credentials',
        );
        this.events.integrationRejected({
          integrationId: row.integration.id,
          integration: row.integration.key,
          provider: row.integration.provider,
          reason,
        });
      }
    }
    const expired = row.accessTokenExpiresAt === null || row.accessTokenExpiresAt.getTime() <= now;
    const status: ConnectionStatus | null = expired && row.status === 'active' ? 'refresh_failing' : null;
    await this.repo.applyFailure({
      id: row.id,
      tenantId: row.tenantId,
      version: row.version,
      attemptId,
      outcome: failure.class,
      status,
      statusReason: status ? `${failure.class}:${failure.code}` : null,
      lastError,
      nextRefreshAt: new Date(now + waitSeconds * 1000),
      incrementFailures: calledProvider || failure.class !== 'rate_limited',
      event: { type: 'refresh_failed', detail: { ...detail, retry_in_seconds: Math.round(waitSeconds) } },
    });
    return {
      outcome: failure.class,
      calledProvider,
      status: status ?? row.status,
      expiresAt: row.accessTokenExpiresAt,
      retryAfterSeconds: waitSeconds,
    };
  }

  private count(row: RefreshRow, trigger: RefreshTrigger, outcome: RefreshOutcome): void {
    this.metrics.refreshTotal.inc({
      provider: row.integration.provider,
      integration: row.integration.key,
      trigger,
      outcome,
    });
  }
}

/** `bearer` (RFC 6750 is case-insensitive) is answered as `Bearer`; Slack's `bot`/`user` stay as they are. */
function normaliseTokenType(t: string): string {
  return t.toLowerCase() === 'bearer' ? 'Bearer' : t;
}
