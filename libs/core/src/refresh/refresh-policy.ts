import type { RefreshRow, RefreshTrigger } from '@vault/persistence';
import { CATALOGUE, type ProviderFailure, type ProviderName } from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import { backoffSeconds } from './backoff';
import { reportFromRow, type RefreshOutcome, type RefreshReport } from './refresh.types';
import { earlyWindowMs } from './schedule';

/**
 * The refresh engine's decisions, as pure functions of a row, the trigger and the time (design section 4):
 * whether to call the provider at all, how long the lock must live, and what a reader that waited for another
 * refresher concludes. No I/O here: the service reads, locks and writes; this file says what to do.
 */

export type PolicyConfig = Pick<
  VaultConfig,
  | 'SWEEP_LOOKAHEAD_SECONDS'
  | 'PROVIDER_TIMEOUT_MS'
  | 'REFRESH_BACKOFF_BASE_SECONDS'
  | 'REFRESH_BACKOFF_MAX_SECONDS'
  | 'MIN_REFRESH_INTERVAL_SECONDS'
>;

/** Reads do not retry a provider that failed (transiently) less than this long ago. */
export const ON_DEMAND_RETRY_MS = 5_000;

export type Decision =
  /** Nothing to do (fresh, not due, flagged): answer this report and write nothing. */
  | { kind: 'done'; report: RefreshReport }
  /** No provider call now: a scheduled refresh is put off by `waitSeconds`, nothing else is written. */
  | { kind: 'hold'; failure: ProviderFailure; waitSeconds: number }
  /** Call the provider with this timeout, under a lock living at least `lockTtlMs`. */
  | { kind: 'call'; timeoutMs: number; lockTtlMs: number };

/**
 * The lock outlives the provider call (its timeout, twice where a quick retry inside a grace window may
 * follow) with a margin. It is taken with the default timeout and extended once the integration is known to
 * need longer, so a dead holder's lock frees as soon as possible.
 */
export function lockTtlMs(timeoutMs: number, calls = 1): number {
  return calls * timeoutMs + 5_000;
}

export function freshFor(
  row: Pick<RefreshRow, 'accessTokenExpiresAt'>,
  minTtlSeconds: number,
  now: number,
): boolean {
  return (
    row.accessTokenExpiresAt !== null && row.accessTokenExpiresAt.getTime() - now >= minTtlSeconds * 1000
  );
}

export function backoffFor(
  row: Pick<RefreshRow, 'refreshFailures'>,
  config: PolicyConfig,
  random: () => number = Math.random,
): number {
  return backoffSeconds(
    row.refreshFailures + 1,
    config.REFRESH_BACKOFF_BASE_SECONDS,
    config.REFRESH_BACKOFF_MAX_SECONDS,
    random,
  );
}

/** Decides under the lock whether to call the provider for this row (before the integration's rate limit). */
export function plan(
  row: RefreshRow,
  trigger: RefreshTrigger,
  minTtlSeconds: number,
  config: PolicyConfig,
  now: number,
  random: () => number = Math.random,
): Decision {
  const done = (outcome: RefreshOutcome, retry: number | null = null): Decision => ({
    kind: 'done',
    report: reportFromRow(row, outcome, false, retry),
  });
  if (row.status === 'needs_reauth' || row.status === 'revoked') return done('reauth_required');
  if (trigger === 'on_demand' && freshFor(row, minTtlSeconds, now)) return done('success');
  const sinceFailure = row.lastError ? now - Date.parse(row.lastError.at) : Infinity;
  if (
    trigger === 'on_demand' &&
    sinceFailure < ON_DEMAND_RETRY_MS &&
    (row.lastError?.class === 'transient' || row.lastError?.class === 'provider_error')
  ) {
    // A provider that just failed is not asked again by every read: readers share one try per interval.
    return {
      kind: 'hold',
      failure: {
        class: row.lastError.class,
        code: row.lastError.code,
        httpStatus: row.lastError.http_status,
        ambiguous: false,
      },
      waitSeconds: (ON_DEMAND_RETRY_MS - sinceFailure) / 1000,
    };
  }
  const sinceRefresh = row.lastRefreshedAt ? now - row.lastRefreshedAt.getTime() : Infinity;
  const floorMs = config.MIN_REFRESH_INTERVAL_SECONDS * 1000;
  if (trigger === 'on_demand' && sinceRefresh < floorMs) {
    // Refreshed less than the floor ago and still not fresh enough for this read (a min_ttl above what the
    // provider gives, an expires_in of 0): reads may not make the vault call the provider in a loop.
    return {
      kind: 'hold',
      failure: { class: 'rate_limited', code: 'min_refresh_interval', httpStatus: null, ambiguous: false },
      waitSeconds: (floorMs - sinceRefresh) / 1000,
    };
  }
  if (
    trigger === 'scheduled' &&
    (row.nextRefreshAt === null ||
      row.nextRefreshAt.getTime() >
        now + earlyWindowMs(row.accessTokenExpiresAt, config.SWEEP_LOOKAHEAD_SECONDS, now) + 5_000)
  ) {
    return done('success');
  }
  if (row.integration.status === 'credentials_rejected') {
    // Calling again with credentials the provider refused would not help; wait for a new client secret.
    return {
      kind: 'hold',
      failure: {
        class: 'integration_error',
        code: 'credentials_rejected',
        httpStatus: null,
        ambiguous: false,
      },
      waitSeconds: backoffFor(row, config, random),
    };
  }
  const timeoutMs = row.integration.requestTimeoutMs ?? config.PROVIDER_TIMEOUT_MS;
  const entry = CATALOGUE[row.integration.provider as ProviderName];
  return { kind: 'call', timeoutMs, lockTtlMs: lockTtlMs(timeoutMs, (entry.graceSeconds ?? 0) > 0 ? 2 : 1) };
}

/** The integration was slowed down (a 429) and still is for `seconds`: no call, try again after it. */
export function rateLimitedHold(seconds: number): Decision {
  return {
    kind: 'hold',
    failure: {
      class: 'rate_limited',
      code: 'provider_slowed_down',
      httpStatus: null,
      ambiguous: false,
      retryAfterSeconds: seconds,
    },
    waitSeconds: seconds,
  };
}

/**
 * A reader found the lock taken and waited for its holder: what the holder's work means for this reader.
 * Null when the holder changed nothing (it found the work already done, by its own measure): try ourselves.
 */
export function afterWaiting(
  before: RefreshRow,
  after: RefreshRow,
  trigger: RefreshTrigger,
  minTtlSeconds: number,
  now: number,
): RefreshReport | null {
  if (after.status === 'needs_reauth' || after.status === 'revoked') {
    return reportFromRow(after, 'reauth_required', false, null);
  }
  if (trigger === 'on_demand' ? freshFor(after, minTtlSeconds, now) : after.version !== before.version) {
    return reportFromRow(after, 'success', false, null);
  }
  if (after.updatedAt.getTime() !== before.updatedAt.getTime()) {
    // The holder tried and failed: its outcome stands, and its backoff is not to be bypassed by readers.
    const retryIn = after.nextRefreshAt ? Math.max(1, (after.nextRefreshAt.getTime() - now) / 1000) : 5;
    const outcome = (after.lastError?.class as RefreshOutcome | undefined) ?? 'transient';
    return reportFromRow(after, outcome, false, retryIn);
  }
  return null;
}
