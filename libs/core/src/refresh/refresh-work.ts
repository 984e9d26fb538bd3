import { Logger } from '@nestjs/common';
import type { EnvelopeCipher } from '@vault/crypto';
import type {
  NewRefreshAttempt,
  RefreshAttemptsRepository,
  RefreshRepository,
  RefreshRow,
  RefreshSuccess,
  RefreshTrigger,
} from '@vault/persistence';
import type { ProviderRegistry, RefreshResult, TokenSet } from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import { dependencyOutage, unavailable } from '../errors/unavailable';
import { VaultError } from '../errors/vault-error';
import type { MetricsService } from '../metrics/metrics.service';
import { Coalescer } from './coalescer';
import { errorName, type LockKeeper } from './lock-keeper';
import type { RateLimits } from './rate-limit-store';
import type { HeldLock } from './redis-lock';
import type { RefreshOutcomes } from './refresh-outcome';
import { lockTtlMs, plan, rateLimitedHold } from './refresh-policy';
import { buildRefreshCall } from './refresh-request';
import { reportFromRow, type PlannedCall, type RefreshReport } from './refresh.types';

export interface WorkDeps {
  repo: Pick<RefreshRepository, 'load' | 'applySuccesses'>;
  attempts: Pick<RefreshAttemptsRepository, 'start' | 'open' | 'finish'>;
  cipher: Pick<EnvelopeCipher, 'open'>;
  providers: Pick<ProviderRegistry, 'get'>;
  metrics: Pick<MetricsService, 'refreshDuration' | 'previousSecretUsed' | 'unstoredRefreshes'>;
  config: VaultConfig;
  outcomes: RefreshOutcomes;
  rateLimits: RateLimits;
  keeper: Pick<LockKeeper, 'keep'>;
}

/**
 * One connection's work: `result` settles when it is over (its write landed, retries included) and the lock
 * may go; `stalled` rejects (503 `unavailable`) as soon as a write has to be retried, to answer the caller.
 */
export interface Flight {
  result: Promise<RefreshReport>;
  stalled: Promise<never>;
}

/** Longest pause between two tries of a write that must land (a rotated refresh token). */
const WRITE_RETRY_MAX_MS = 5_000;

/**
 * The work on one connection under its lock (design section 4): decision → journal → provider call → outcome.
 * Journal entries and successful writes of concurrent refreshes are grouped into multi-row statements, each
 * connection's work stays its own: one connection's failure never costs another its refresh. Once the
 * provider has answered with tokens, their write is retried until it lands (the lock kept alive meanwhile);
 * the caller is answered 503 `unavailable` at the first failed try rather than kept waiting.
 */
export class RefreshWork {
  private readonly logger = new Logger('Refresh');
  private readonly starts: Coalescer<NewRefreshAttempt, null>;
  private readonly successes: Coalescer<RefreshSuccess, boolean>;

  constructor(private readonly d: WorkDeps) {
    this.starts = new Coalescer(async (attempts) => {
      await d.attempts.start(attempts);
      return attempts.map(() => null);
    });
    this.successes = new Coalescer(async (writes) => {
      const applied = await d.repo.applySuccesses(writes);
      return writes.map((w) => applied.has(w.id));
    });
  }

  start(row: RefreshRow, lock: HeldLock | undefined, trigger: RefreshTrigger, minTtlSeconds: number): Flight {
    let stall: (err: unknown) => void = () => undefined;
    const stalled = new Promise<never>((_, reject) => (stall = reject));
    stalled.catch(() => undefined);
    return { result: this.work(row, lock, trigger, minTtlSeconds, (err) => stall(err)), stalled };
  }

  private async work(
    row: RefreshRow,
    lock: HeldLock | undefined,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
    stall: (err: unknown) => void,
  ): Promise<RefreshReport> {
    const prepared = await this.prepare(row, trigger, minTtlSeconds, lock);
    if ('done' in prepared) return prepared.done;
    const call = prepared.call;
    await this.starts.submit(call.attempt);
    const result = await this.execute(call);
    const answeredAt = Date.now();
    if (!result.ok) return this.d.outcomes.failure(row, call.attempt.id, trigger, result.failure);
    return this.persist(call, result.tokens, answeredAt, stall);
  }

  /**
   * Under the lock: asks the policy what to do, then checks the integration's rate limit, gives the lock its
   * own TTL, closes attempts a dead process left open, and builds the call. Writes only hold-backs.
   */
  private async prepare(
    row: RefreshRow,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
    lock: HeldLock | undefined,
  ): Promise<{ done: RefreshReport } | { call: PlannedCall }> {
    let decision = plan(row, trigger, minTtlSeconds, this.d.config, Date.now());
    if (decision.kind === 'call') {
      const limitedFor = await this.d.rateLimits.limitedFor(row.integration.id);
      if (limitedFor > 0) decision = rateLimitedHold(limitedFor);
    }
    if (decision.kind === 'done') return { done: decision.report };
    if (decision.kind === 'hold') {
      return { done: await this.d.outcomes.holdBack(row, trigger, decision.failure, decision.waitSeconds) };
    }
    if (lock) {
      if (
        decision.lockTtlMs > lockTtlMs(this.d.config.PROVIDER_TIMEOUT_MS) &&
        !(await lock.extend(decision.lockTtlMs))
      ) {
        // The lock expired under us (a stalled process): someone else may be refreshing now; do not call.
        return { done: reportFromRow(row, 'transient', false, 5) };
      }
      this.d.keeper.keep(lock, decision.lockTtlMs);
    }
    if (row.hasOpenAttempts) {
      const liveFor = await this.recoverInterruptedAttempts(row, decision.lockTtlMs);
      // A younger open attempt may belong to a refresher still at work: its rotated token may be on its way.
      if (liveFor > 0) return { done: reportFromRow(row, 'transient', false, liveFor) };
    }
    return {
      call: await buildRefreshCall(row, trigger, decision.timeoutMs, this.d.cipher, this.d.providers),
    };
  }

  /**
   * The provider call, with one quick retry of an ambiguous failure where the provider has a grace window, and
   * during a client secret rotation's overlap one retry with the previous secret when the provider rejects the
   * client (an integration_error it answered: the refresh token was not used).
   */
  private async execute(call: PlannedCall): Promise<RefreshResult> {
    let result = await this.callProvider(call, call.request);
    if (!result.ok && result.failure.ambiguous && (call.entry.graceSeconds ?? 0) > 0) {
      // The request may have reached the provider; inside its grace window the same RT works once more.
      result = await this.callProvider(call, call.request);
    }
    const previous = call.previousSecretRequest;
    if (!result.ok && previous && result.failure.class === 'integration_error' && result.failure.httpStatus) {
      result = await this.callProvider(call, previous);
      this.d.metrics.previousSecretUsed.inc({
        provider: call.provider,
        outcome: result.ok ? 'accepted' : 'rejected',
      });
    }
    return result;
  }

  private async callProvider(call: PlannedCall, request: PlannedCall['request']): Promise<RefreshResult> {
    const end = this.d.metrics.refreshDuration.startTimer({ provider: call.provider });
    try {
      return await call.adapter.refresh(request);
    } finally {
      end();
    }
  }

  /**
   * Seals and writes what the provider answered, retrying until it lands: after a rotation the answer holds
   * the only refresh token that still works. Stops only if the connection is gone (deleted meanwhile).
   */
  private async persist(
    call: PlannedCall,
    tokens: TokenSet,
    answeredAt: number,
    stall: (err: unknown) => void,
  ): Promise<RefreshReport> {
    let sealed: Awaited<ReturnType<RefreshOutcomes['success']>> | null = null;
    // Counted while the answer lives only in this process's memory (vault_refresh_unstored_tokens).
    const unstored = this.d.metrics.unstoredRefreshes;
    let held = false;
    try {
      for (let tries = 0; ; tries++) {
        try {
          sealed ??= await this.d.outcomes.success(call, tokens, answeredAt);
          this.d.outcomes.afterSuccess(call, await this.successes.submit(sealed.write));
          return sealed.report;
        } catch (err) {
          if (await this.isGone(call.row.id)) {
            this.logger.warn({ connectionId: call.row.id }, 'connection deleted while it was refreshed');
            throw VaultError.notFound('connection');
          }
          if (tries === 0) {
            this.logger.warn(
              { connectionId: call.row.id, error: errorName(err) },
              'refreshed tokens could not be stored yet; retrying until they are',
            );
            unstored.inc();
            held = true;
            stall(dependencyOutage(err) ?? unavailable('the token store'));
          }
          await new Promise((r) => setTimeout(r, Math.min(WRITE_RETRY_MAX_MS, 100 * 2 ** tries)));
        }
      }
    } finally {
      if (held) unstored.dec();
    }
  }

  private async isGone(id: string): Promise<boolean> {
    try {
      return (await this.d.repo.load(id)) === null;
    } catch {
      return false;
    }
  }

  /**
   * Attempts left open by a process that died after calling the provider are orphans once older than the
   * lock (nobody can still be at work on them): closed as `interrupted`, visible, not looped on. Answers how
   * many seconds the youngest other open attempt still has before it counts as an orphan (0: none).
   */
  private async recoverInterruptedAttempts(row: RefreshRow, lockMs: number): Promise<number> {
    const now = Date.now();
    let liveForMs = 0;
    for (const a of await this.d.attempts.open(row.id)) {
      const age = now - a.startedAt.getTime();
      if (age < lockMs) {
        liveForMs = Math.max(liveForMs, lockMs - age);
        continue;
      }
      await this.d.attempts.finish(a.id, 'interrupted');
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
    return liveForMs / 1000;
  }
}
