import { Logger } from '@nestjs/common';
import type { EnvelopeCipher } from '@vault/crypto';
import type {
  ConnectionLastError,
  ConnectionStatus,
  IntegrationsRepository,
  RefreshAttemptsRepository,
  RefreshRepository,
  RefreshRow,
  RefreshScheduleRepository,
  RefreshSuccess,
  RefreshTrigger,
} from '@vault/persistence';
import type { ProviderFailure, TokenSet } from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import { aad } from '../crypto/aad';
import { VaultError } from '../errors/vault-error';
import { backoffFor } from './refresh-policy';
import type { RateLimits } from './rate-limit-store';
import {
  reportFromRow,
  type PlannedCall,
  type RefreshEvents,
  type RefreshOutcome,
  type RefreshReport,
} from './refresh.types';
import { nextRefreshAt } from './schedule';

/** The ports outcome handling writes through (the persistence repositories, or fakes in unit specs). */
export interface OutcomePorts {
  repo: Pick<RefreshRepository, 'load' | 'applyFailure'>;
  attempts: Pick<RefreshAttemptsRepository, 'finish'>;
  schedule: Pick<RefreshScheduleRepository, 'reschedule'>;
  integrations: Pick<IntegrationsRepository, 'markCredentialsRejected'>;
  cipher: Pick<EnvelopeCipher, 'seal'>;
  rateLimits: Pick<RateLimits, 'slowDown'>;
  count(row: RefreshRow, trigger: RefreshTrigger, outcome: RefreshOutcome): void;
  events: RefreshEvents;
  config: Pick<
    VaultConfig,
    | 'DEFAULT_REFRESH_INTERVAL_SECONDS'
    | 'REFRESH_MARGIN_SECONDS'
    | 'REFRESH_BACKOFF_BASE_SECONDS'
    | 'REFRESH_BACKOFF_MAX_SECONDS'
    | 'SWEEP_LOOKAHEAD_SECONDS'
    | 'PROVIDER_TIMEOUT_MS'
    | 'RATE_LIMIT_MAX_WAIT_SECONDS'
    | 'MIN_REFRESH_INTERVAL_SECONDS'
  >;
  clock?: () => number;
  random?: () => number;
}

/**
 * What an answer (or the absence of a call) does to a connection, design sections 5 and 7: a success is sealed
 * into a fenced write; a failure is classified into a status, a backoff and an event; a hold-back only puts a
 * scheduled refresh off. Turns outcomes into writes; never calls the provider.
 */
export class RefreshOutcomes {
  private readonly logger = new Logger('Refresh');
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly p: OutcomePorts) {
    this.now = p.clock ?? Date.now;
    this.random = p.random ?? Math.random;
  }

  /**
   * Seals the new tokens and computes the next due time: the write to apply and the report it gives.
   * `issuedAt` is when the provider answered (a write retried later must not stretch the token's life).
   */
  async success(
    call: PlannedCall,
    t: TokenSet,
    issuedAt: number = this.now(),
  ): Promise<{ write: RefreshSuccess; report: RefreshReport }> {
    const { row } = call;
    const ttl =
      t.expiresIn ??
      call.entry.defaultAccessTokenTtlSeconds ??
      this.p.config.DEFAULT_REFRESH_INTERVAL_SECONDS;
    const expiresAt = new Date(issuedAt + ttl * 1000);
    const margin = Math.min(
      row.integration.refreshMarginSeconds ?? this.p.config.REFRESH_MARGIN_SECONDS,
      Math.floor(ttl / 2),
    );
    const rotated = t.refreshToken !== null && t.refreshToken !== call.refreshToken;
    const write: RefreshSuccess = {
      id: row.id,
      version: row.version,
      tenantId: row.tenantId,
      attemptId: call.attempt.id,
      accessTokenSealed: await this.p.cipher.seal(t.accessToken, aad.connection(row.id, 'access_token')),
      accessTokenExpiresAt: expiresAt,
      refreshTokenSealed:
        rotated && t.refreshToken
          ? await this.p.cipher.seal(t.refreshToken, aad.connection(row.id, 'refresh_token'))
          : null,
      tokenType: normaliseTokenType(storable(t.tokenType)),
      scopes: t.scopes?.map(storable) ?? null,
      // However short the token's life (an expires_in of 0), never due again before the floor.
      nextRefreshAt: new Date(
        Math.max(
          nextRefreshAt(expiresAt, margin, new Date(issuedAt), this.random).getTime(),
          issuedAt + this.p.config.MIN_REFRESH_INTERVAL_SECONDS * 1000,
        ),
      ),
      refreshTokenExpiresAt: t.refreshTokenExpiresIn
        ? new Date(issuedAt + t.refreshTokenExpiresIn * 1000)
        : null,
      eventDetail: { trigger: call.trigger, rotated, expires_at: expiresAt.toISOString() },
    };
    const report: RefreshReport = {
      outcome: 'success',
      calledProvider: true,
      status: 'active',
      expiresAt,
      retryAfterSeconds: null,
    };
    return { write, report };
  }

  /** After the fenced write: counted either way; not applied means a newer grant won and was kept. */
  afterSuccess(call: PlannedCall, applied: boolean): void {
    this.p.count(call.row, call.trigger, 'success');
    if (!applied) {
      this.logger.warn(
        { connectionId: call.row.id },
        'refresh succeeded but the grant changed meanwhile; kept the newer grant',
      );
    }
  }

  /**
   * No provider call was made (the integration's credentials are rejected, the provider is slowed down, a read
   * shortly after a failure): nothing is recorded against the connection, so reads cannot flood its history; a
   * scheduled refresh is only put off until it may try again.
   */
  async holdBack(
    row: RefreshRow,
    trigger: RefreshTrigger,
    failure: ProviderFailure,
    waitSeconds: number,
  ): Promise<RefreshReport> {
    if (trigger === 'scheduled') {
      await this.p.schedule.reschedule(row.id, row.version, new Date(this.now() + waitSeconds * 1000));
    }
    return { ...reportFromRow(row, failure.class, false, waitSeconds), reason: failure.code };
  }

  /** A failed provider call: its class decides the status, the backoff, the event and the hooks. */
  async failure(
    row: RefreshRow,
    attemptId: string | null,
    trigger: RefreshTrigger,
    failure: ProviderFailure,
  ): Promise<RefreshReport> {
    const now = this.now();
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
    this.p.count(row, trigger, failure.class);
    if (failure.class === 'reauth_required') return this.reauth(row, attemptId, failure, lastError, detail);

    let waitSeconds = backoffFor(row, this.p.config, this.random);
    if (failure.class === 'rate_limited') {
      // One answer may not freeze an integration for a year: the provider's wait is capped.
      waitSeconds = Math.min(
        failure.retryAfterSeconds ?? waitSeconds,
        this.p.config.RATE_LIMIT_MAX_WAIT_SECONDS,
      );
      await this.p.rateLimits.slowDown(row.integration.id, waitSeconds);
    }
    if (failure.class === 'integration_error') await this.rejectCredentials(row, failure);
    const expired = row.accessTokenExpiresAt === null || row.accessTokenExpiresAt.getTime() <= now;
    const status: ConnectionStatus | null = expired && row.status === 'active' ? 'refresh_failing' : null;
    await this.p.repo.applyFailure({
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

  /** invalid_grant and kin: the grant is dead, unless it changed while we called (a lost race, not flagged). */
  private async reauth(
    row: RefreshRow,
    attemptId: string | null,
    failure: ProviderFailure,
    lastError: ConnectionLastError,
    detail: Record<string, unknown>,
  ): Promise<RefreshReport> {
    const current = await this.p.repo.load(row.id);
    if (!current) throw VaultError.notFound('connection');
    if (current.version !== row.version) {
      if (attemptId) await this.p.attempts.finish(attemptId, 'race_lost');
      this.logger.warn(
        { connectionId: row.id },
        'invalid_grant after the grant changed meanwhile: a lost race, not flagged',
      );
      return reportFromRow(
        current,
        current.status === 'needs_reauth' ? 'reauth_required' : 'success',
        true,
        null,
      );
    }
    const reason = failure.subCode ? `${failure.code}:${failure.subCode}` : failure.code;
    const applied = await this.p.repo.applyFailure({
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
      this.p.events.needsReauth({
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

  /** invalid_client and kin: the integration is marked (once), not its connections. */
  private async rejectCredentials(row: RefreshRow, failure: ProviderFailure): Promise<void> {
    const reason = failure.subCode ? `${failure.code}:${failure.subCode}` : failure.code;
    if (await this.p.integrations.markCredentialsRejected(row.integration.id, reason)) {
      this.logger.error(
        { integration: row.integration.key, reason },
        'the provider rejected the integration credentials',
      );
      this.p.events.integrationRejected({
        integrationId: row.integration.id,
        integration: row.integration.key,
        provider: row.integration.provider,
        reason,
      });
    }
  }
}

/** PostgreSQL text cannot hold NUL: a provider's stray NUL must not make the write of a rotated token fail. */
function storable(text: string): string {
  return text.replaceAll('\u0000', '');
}

/** `bearer` (RFC 6750 is case-insensitive) is answered as `Bearer`; Slack's `bot`/`user` stay as they are. */
export function normaliseTokenType(t: string): string {
  return t.toLowerCase() === 'bearer' ? 'Bearer' : t;
}
