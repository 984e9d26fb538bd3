import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { fingerprint, type EnvelopeCipher } from '@vault/crypto';
import type {
  ConnectionLastError,
  ConnectionStatus,
  ConnectionsRepository,
  IntegrationsRepository,
  RefreshAttemptsRepository,
  RefreshRepository,
  RefreshScheduleRepository,
  RefreshRow,
  RefreshSuccess,
  RefreshTrigger,
  TokenRow,
} from '@vault/persistence';
import {
  CATALOGUE,
  resolveEndpoints,
  type CatalogueEntry,
  type ClientAuthMethod,
  type FailureClass,
  type ProviderAdapter,
  type ProviderFailure,
  type ProviderName,
  type ProviderRegistry,
  type RefreshRequest,
  type RefreshResult,
  type TokenSet,
} from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';
import type { MetricsService } from '../metrics/metrics.service';
import type { RedisService } from '../redis/redis.service';
import { isFresh, type OnDemandRefresher } from '../tokens/token.service';
import { backoffSeconds } from './backoff';
import { RedisLocks, type HeldLock } from './redis-lock';
import { earlyWindowMs, nextRefreshAt } from './schedule';

/** Outcomes of design section 7, plus what happens when no provider call was needed. */
export type RefreshOutcome = FailureClass | 'success';

/** A provider call decided under the lock, ready to be journalled and made. */
interface Planned {
  row: RefreshRow;
  trigger: RefreshTrigger;
  provider: ProviderName;
  entry: CatalogueEntry;
  adapter: ProviderAdapter;
  refreshToken: string;
  attempt: {
    id: string;
    connectionId: string;
    trigger: RefreshTrigger;
    connectionVersion: number;
    refreshTokenFingerprint: string;
  };
  request: RefreshRequest;
}

/** Reads do not retry a provider that failed (transiently) less than this long ago. */
const ON_DEMAND_RETRY_MS = 5_000;

function transientReport(): RefreshReport {
  return {
    outcome: 'transient',
    calledProvider: false,
    status: 'active',
    expiresAt: null,
    retryAfterSeconds: 5,
  };
}

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
    private readonly attempts: RefreshAttemptsRepository,
    private readonly schedule: RefreshScheduleRepository,
    private readonly integrations: IntegrationsRepository,
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
    const lockTtlMs = this.lockTtlMs();
    for (let round = 0; round < 3; round++) {
      const lock = await this.locks.tryAcquire(id, lockTtlMs);
      if (lock) {
        try {
          return await this.underLock(lock, trigger, minTtlSeconds);
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
    lock: HeldLock,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
  ): Promise<RefreshReport> {
    const row = await this.mustLoad(lock.name);
    const plan = await this.plan(row, trigger, minTtlSeconds, lock);
    if ('done' in plan) return plan.done;
    await this.attempts.start([plan.call.attempt]);
    const result = await this.execute(plan.call);
    if (!result.ok) return this.recordFailure(row, plan.call.attempt.id, trigger, result.failure);
    const { write, report } = await this.success(plan.call, result.tokens);
    const applied = await this.repo.applySuccesses([write]);
    this.afterSuccess(plan.call, applied.has(row.id));
    return report;
  }

  /**
   * Scheduled refreshes of a batch of connections due together (one BullMQ job): the same steps as a single
   * refresh, but the locks, the reads, the journal and the successful writes each take one round trip for the
   * whole batch. Connections already being refreshed anywhere are skipped, as a single scheduled refresh would.
   */
  async refreshScheduledBatch(ids: string[]): Promise<RefreshOutcome[]> {
    const mine = [...new Set(ids)].filter((id) => !this.inflight.has(id));
    const settle = new Map<string, (r: RefreshReport) => void>();
    for (const id of mine) {
      this.inflight.set(
        id,
        new Promise<RefreshReport>((resolve) => settle.set(id, resolve)).finally(() =>
          this.inflight.delete(id),
        ),
      );
    }
    const reports = new Map<string, RefreshReport>();
    const locks = await this.locks.tryAcquireMany(mine, this.lockTtlMs()).catch((err: unknown) => {
      for (const id of mine) settle.get(id)?.(transientReport());
      throw err;
    });
    try {
      const rows = await this.repo.loadMany([...locks.keys()]);
      const planned: Planned[] = [];
      for (const row of rows) {
        const lock = locks.get(row.id);
        const plan = await this.plan(row, 'scheduled', 0, lock);
        if ('done' in plan) reports.set(row.id, plan.done);
        else planned.push(plan.call);
      }
      await this.attempts.start(planned.map((p) => p.attempt));
      const results = await Promise.all(planned.map((p) => this.execute(p)));
      const writes: { call: Planned; write: RefreshSuccess }[] = [];
      await Promise.all(
        planned.map(async (call, i) => {
          const result = results[i];
          if (!result) return;
          if (result.ok) {
            const { write, report } = await this.success(call, result.tokens);
            writes.push({ call, write });
            reports.set(call.row.id, report);
          } else {
            reports.set(
              call.row.id,
              await this.recordFailure(call.row, call.attempt.id, 'scheduled', result.failure),
            );
          }
        }),
      );
      const applied = await this.repo.applySuccesses(writes.map((w) => w.write));
      for (const w of writes) this.afterSuccess(w.call, applied.has(w.call.row.id));
    } finally {
      await this.locks
        .releaseMany([...locks.values()])
        .catch((err: unknown) => this.logger.warn({ err }, 'lock release failed'));
      for (const id of mine) settle.get(id)?.(reports.get(id) ?? transientReport());
    }
    return mine.map((id) => reports.get(id)?.outcome ?? 'transient');
  }

  /**
   * The lock outlives the provider call (its timeout, twice where a quick retry inside a grace window may
   * follow) with a margin. It is taken with the default timeout and extended once the integration is known to
   * need longer, so a dead holder's lock frees as soon as possible.
   */
  private lockTtlMs(timeoutMs = this.config.PROVIDER_TIMEOUT_MS, calls = 1): number {
    return calls * timeoutMs + 5_000;
  }

  /** Decides under the lock whether to call the provider, and prepares the call. Writes nothing but failures. */
  private async plan(
    row: RefreshRow,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
    lock: HeldLock | undefined,
  ): Promise<{ done: RefreshReport } | { call: Planned }> {
    const done = (report: RefreshReport) => ({ done: report });
    if (row.status === 'needs_reauth' || row.status === 'revoked') {
      return done(this.reportFromRow(row, 'reauth_required', false, null));
    }
    const now = Date.now();
    if (trigger === 'on_demand' && this.freshFor(row, minTtlSeconds)) {
      return done(this.reportFromRow(row, 'success', false, null));
    }
    const sinceFailure = row.lastError ? now - Date.parse(row.lastError.at) : Infinity;
    if (
      trigger === 'on_demand' &&
      sinceFailure < ON_DEMAND_RETRY_MS &&
      (row.lastError?.class === 'transient' || row.lastError?.class === 'provider_error')
    ) {
      // A provider that just failed is not asked again by every read: readers share one try per interval.
      const failure: ProviderFailure = {
        class: row.lastError.class,
        code: row.lastError.code,
        httpStatus: row.lastError.http_status,
        ambiguous: false,
      };
      return done(await this.holdBack(row, trigger, failure, (ON_DEMAND_RETRY_MS - sinceFailure) / 1000));
    }
    if (
      trigger === 'scheduled' &&
      (row.nextRefreshAt === null ||
        row.nextRefreshAt.getTime() >
          now + earlyWindowMs(row.accessTokenExpiresAt, this.config.SWEEP_LOOKAHEAD_SECONDS, now) + 5_000)
    ) {
      return done(this.reportFromRow(row, 'success', false, null));
    }
    const integration = row.integration;
    const provider = integration.provider as ProviderName;
    if (integration.status === 'credentials_rejected') {
      // Calling again with credentials the provider refused would not help; wait for a new client secret.
      const failure: ProviderFailure = {
        class: 'integration_error',
        code: 'credentials_rejected',
        httpStatus: null,
        ambiguous: false,
      };
      return done(await this.holdBack(row, trigger, failure, this.backoff(row)));
    }
    const limitedFor = await this.rateLimitedFor(integration.id);
    if (limitedFor > 0) {
      const failure: ProviderFailure = {
        class: 'rate_limited',
        code: 'provider_slowed_down',
        httpStatus: null,
        ambiguous: false,
        retryAfterSeconds: limitedFor,
      };
      return done(await this.holdBack(row, trigger, failure, limitedFor));
    }
    const timeoutMs = this.timeoutFor(integration.requestTimeoutMs);
    const entry = CATALOGUE[provider];
    const needed = this.lockTtlMs(timeoutMs, (entry.graceSeconds ?? 0) > 0 ? 2 : 1);
    if (lock && needed > this.lockTtlMs() && !(await lock.extend(needed))) {
      // The lock expired under us (a stalled process): someone else may be refreshing now; do not call.
      return done(this.reportFromRow(row, 'transient', false, 5));
    }
    if (row.hasOpenAttempts) await this.recoverInterruptedAttempts(row);

    const clientSecret = await this.cipher.open(
      integration.clientSecretSealed,
      aad.integration(integration.id),
    );
    const refreshToken = await this.cipher.open(
      row.refreshTokenSealed,
      aad.connection(row.id, 'refresh_token'),
    );
    return {
      call: {
        row,
        trigger,
        provider,
        entry,
        adapter: this.providers.get(provider),
        refreshToken,
        attempt: {
          id: randomUUID(),
          connectionId: row.id,
          trigger,
          connectionVersion: row.version,
          refreshTokenFingerprint: fingerprint(refreshToken),
        },
        request: {
          endpoints: resolveEndpoints(entry, {
            tokenUrl: integration.tokenUrl,
            authorizeUrl: integration.authorizeUrl,
            revokeUrl: integration.revokeUrl,
          }),
          clientId: integration.clientId,
          clientSecret,
          clientAuth: integration.clientAuth as ClientAuthMethod,
          refreshToken,
          timeoutMs,
        },
      },
    };
  }

  /** The provider call, with one quick retry of an ambiguous failure where the provider has a grace window. */
  private async execute(call: Planned): Promise<RefreshResult> {
    let result = await this.callProvider(call.provider, () => call.adapter.refresh(call.request));
    if (!result.ok && result.failure.ambiguous && (call.entry.graceSeconds ?? 0) > 0) {
      // The request may have reached the provider; inside its grace window the same RT works once more.
      result = await this.callProvider(call.provider, () => call.adapter.refresh(call.request));
    }
    return result;
  }

  /** Seals the new tokens and computes the next due time: the write to apply and the report it gives. */
  private async success(
    call: Planned,
    t: TokenSet,
  ): Promise<{ write: RefreshSuccess; report: RefreshReport }> {
    const { row } = call;
    const issuedAt = Date.now();
    const ttl =
      t.expiresIn ?? call.entry.defaultAccessTokenTtlSeconds ?? this.config.DEFAULT_REFRESH_INTERVAL_SECONDS;
    const expiresAt = new Date(issuedAt + ttl * 1000);
    const margin = Math.min(
      row.integration.refreshMarginSeconds ?? this.config.REFRESH_MARGIN_SECONDS,
      Math.floor(ttl / 2),
    );
    const rotated = t.refreshToken !== null && t.refreshToken !== call.refreshToken;
    const write: RefreshSuccess = {
      id: row.id,
      version: row.version,
      tenantId: row.tenantId,
      attemptId: call.attempt.id,
      accessTokenSealed: await this.cipher.seal(t.accessToken, aad.connection(row.id, 'access_token')),
      accessTokenExpiresAt: expiresAt,
      refreshTokenSealed:
        rotated && t.refreshToken
          ? await this.cipher.seal(t.refreshToken, aad.connection(row.id, 'refresh_token'))
          : null,
      tokenType: normaliseTokenType(t.tokenType),
      scopes: t.scopes,
      nextRefreshAt: nextRefreshAt(expiresAt, margin, new Date(issuedAt)),
      refreshTokenExpiresAt: t.refreshTokenExpiresIn
        ? new Date(issuedAt + t.refreshTokenExpiresIn * 1000)
        : null,
      eventDetail: { trigger: call.trigger, rotated, expires_at: expiresAt.toISOString() },
    };
    return {
      write,
      report: {
        outcome: 'success',
        calledProvider: true,
        status: 'active',
        expiresAt,
        retryAfterSeconds: null,
      },
    };
  }

  private afterSuccess(call: Planned, applied: boolean): void {
    this.count(call.row, call.trigger, 'success');
    if (!applied) {
      this.logger.warn(
        { connectionId: call.row.id },
        'refresh succeeded but the grant changed meanwhile; kept the newer grant',
      );
    }
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
    const open = await this.attempts.open(row.id);
    for (const a of open) {
      await this.attempts.finish(a.id, 'interrupted');
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

  /**
   * No provider call was made (the integration's credentials are rejected, or the provider is slowed down):
   * nothing is recorded against the connection, so reads cannot flood its history; a scheduled refresh is
   * only put off until it may try again.
   */
  private async holdBack(
    row: RefreshRow,
    trigger: RefreshTrigger,
    failure: ProviderFailure,
    waitSeconds: number,
  ): Promise<RefreshReport> {
    if (trigger === 'scheduled') {
      await this.schedule.reschedule(row.id, row.version, new Date(Date.now() + waitSeconds * 1000));
    }
    return this.reportFromRow(row, failure.class, false, waitSeconds);
  }

  private backoff(row: RefreshRow): number {
    return backoffSeconds(
      row.refreshFailures + 1,
      this.config.REFRESH_BACKOFF_BASE_SECONDS,
      this.config.REFRESH_BACKOFF_MAX_SECONDS,
    );
  }

  private async recordFailure(
    row: RefreshRow,
    attemptId: string | null,
    trigger: RefreshTrigger,
    failure: ProviderFailure,
  ): Promise<RefreshReport> {
    const now = Date.now();
    const lastError: ConnectionLastError = {
      class: failure.class,
      code: failure.code,
      http_status: failure.httpStatus,
      ...(failure.subCode ? { sub_code: failure.subCode } : {}),
      at: new Date(now).toISOString(),
    };
    const detail: Record<string, unknown> = {
      trigger,
      ...lastError,
      ...(failure.shape ? { shape: failure.shape } : {}),
    };
    this.count(row, trigger, failure.class);

    if (failure.class === 'reauth_required') {
      // A refresh token that changed while we called the provider means we lost a race, not the grant.
      const current = await this.mustLoad(row.id);
      if (current.version !== row.version) {
        if (attemptId) await this.attempts.finish(attemptId, 'race_lost');
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
        calledProvider: true,
        status: 'needs_reauth',
        expiresAt: row.accessTokenExpiresAt,
        retryAfterSeconds: null,
      };
    }

    let waitSeconds = this.backoff(row);
    if (failure.class === 'rate_limited') {
      waitSeconds = failure.retryAfterSeconds ?? waitSeconds;
      await this.slowDown(row.integration.id, waitSeconds);
    }
    if (failure.class === 'integration_error') {
      const reason = failure.subCode ? `${failure.code}:${failure.subCode}` : failure.code;
      if (await this.integrations.markCredentialsRejected(row.integration.id, reason)) {
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
      incrementFailures: true,
      event: { type: 'refresh_failed', detail: { ...detail, retry_in_seconds: Math.round(waitSeconds) } },
    });
    return {
      outcome: failure.class,
      calledProvider: true,
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
