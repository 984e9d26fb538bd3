import { Logger } from '@nestjs/common';
import type { EnvelopeCipher } from '@vault/crypto';
import type {
  ConnectionsRepository,
  IntegrationsRepository,
  RefreshAttemptsRepository,
  RefreshRepository,
  RefreshRow,
  RefreshScheduleRepository,
  RefreshSuccess,
  RefreshTrigger,
  TokenRow,
} from '@vault/persistence';
import type { ProviderName, ProviderRegistry, RefreshResult } from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import { VaultError } from '../errors/vault-error';
import type { MetricsService } from '../metrics/metrics.service';
import type { RedisService } from '../redis/redis.service';
import { isFresh, type OnDemandRefresher } from '../tokens/token.service';
import { RedisRateLimits, type RateLimits } from './rate-limit-store';
import { RedisLocks, type HeldLock } from './redis-lock';
import { RefreshOutcomes } from './refresh-outcome';
import { afterWaiting, lockTtlMs, plan, rateLimitedHold } from './refresh-policy';
import { buildRefreshCall } from './refresh-request';
import {
  NO_EVENTS,
  reportFromRow,
  type PlannedCall,
  type RefreshEvents,
  type RefreshOutcome,
  type RefreshReport,
} from './refresh.types';

export type { RefreshEvents, RefreshOutcome, RefreshReport } from './refresh.types';

function transientReport(): RefreshReport {
  return {
    outcome: 'transient',
    calledProvider: false,
    status: 'active',
    expiresAt: null,
    retryAfterSeconds: 5,
  };
}

/**
 * The one refresh function every trigger uses (schedule, on-demand read, forced), design section 4:
 * in-process single flight → Redis lock (owner token, TTL longer than the provider timeout) → re-read under
 * the lock → decision (refresh-policy) → journal → provider call → fenced write of the outcome
 * (refresh-outcome). A reader that finds the lock taken waits for the holder's result.
 */
export class RefreshService implements OnDemandRefresher {
  private readonly logger = new Logger('Refresh');
  private readonly inflight = new Map<string, Promise<RefreshReport>>();
  private readonly locks: RedisLocks;
  private readonly rateLimits: RateLimits;
  private readonly outcomes: RefreshOutcomes;

  constructor(
    private readonly repo: RefreshRepository,
    private readonly attempts: RefreshAttemptsRepository,
    schedule: RefreshScheduleRepository,
    integrations: IntegrationsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly cipher: EnvelopeCipher,
    private readonly providers: ProviderRegistry,
    redis: RedisService,
    private readonly metrics: MetricsService,
    private readonly config: VaultConfig,
    events: RefreshEvents = NO_EVENTS,
  ) {
    this.locks = new RedisLocks(redis.client, redis.prefix);
    this.rateLimits = new RedisRateLimits(redis.client, redis.prefix);
    this.outcomes = new RefreshOutcomes({
      repo,
      attempts,
      schedule,
      integrations,
      cipher,
      rateLimits: this.rateLimits,
      events,
      config,
      count: (row, trigger, outcome) =>
        this.metrics.refreshTotal.inc({
          provider: row.integration.provider,
          integration: row.integration.key,
          trigger,
          outcome,
        }),
    });
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
    const locks = await this.locks.tryAcquireMany(mine, this.defaultLockTtlMs()).catch((err: unknown) => {
      for (const id of mine) settle.get(id)?.(transientReport());
      throw err;
    });
    try {
      const rows = await this.repo.loadMany([...locks.keys()]);
      const planned: PlannedCall[] = [];
      for (const row of rows) {
        const prepared = await this.prepare(row, 'scheduled', 0, locks.get(row.id));
        if ('done' in prepared) reports.set(row.id, prepared.done);
        else planned.push(prepared.call);
      }
      await this.attempts.start(planned.map((p) => p.attempt));
      const results = await Promise.all(planned.map((p) => this.execute(p)));
      const writes: { call: PlannedCall; write: RefreshSuccess }[] = [];
      await Promise.all(
        planned.map(async (call, i) => {
          const result = results[i];
          if (!result) return;
          if (result.ok) {
            const { write, report } = await this.outcomes.success(call, result.tokens);
            writes.push({ call, write });
            reports.set(call.row.id, report);
          } else {
            reports.set(
              call.row.id,
              await this.outcomes.failure(call.row, call.attempt.id, 'scheduled', result.failure),
            );
          }
        }),
      );
      const applied = await this.repo.applySuccesses(writes.map((w) => w.write));
      for (const w of writes) this.outcomes.afterSuccess(w.call, applied.has(w.call.row.id));
    } finally {
      await this.locks
        .releaseMany([...locks.values()])
        .catch((err: unknown) => this.logger.warn({ err }, 'lock release failed'));
      for (const id of mine) settle.get(id)?.(reports.get(id) ?? transientReport());
    }
    return mine.map((id) => reports.get(id)?.outcome ?? 'transient');
  }

  private defaultLockTtlMs(): number {
    return lockTtlMs(this.config.PROVIDER_TIMEOUT_MS);
  }

  private async run(id: string, trigger: RefreshTrigger, minTtlSeconds: number): Promise<RefreshReport> {
    const ttl = this.defaultLockTtlMs();
    for (let round = 0; round < 3; round++) {
      const lock = await this.locks.tryAcquire(id, ttl);
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
      if (trigger === 'scheduled') return reportFromRow(before, 'success', false, null);
      await this.waitForRelease(id, ttl);
      const verdict = afterWaiting(before, await this.mustLoad(id), trigger, minTtlSeconds, Date.now());
      if (verdict) return verdict;
    }
    return reportFromRow(await this.mustLoad(id), 'transient', false, 5);
  }

  private async waitForRelease(id: string, maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    let delay = 20;
    while (Date.now() < until && (await this.locks.isHeld(id))) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  private async mustLoad(id: string): Promise<RefreshRow> {
    const row = await this.repo.load(id);
    if (!row) throw VaultError.notFound('connection');
    return row;
  }

  private async underLock(
    lock: HeldLock,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
  ): Promise<RefreshReport> {
    const row = await this.mustLoad(lock.name);
    const prepared = await this.prepare(row, trigger, minTtlSeconds, lock);
    if ('done' in prepared) return prepared.done;
    const call = prepared.call;
    await this.attempts.start([call.attempt]);
    const result = await this.execute(call);
    if (!result.ok) return this.outcomes.failure(row, call.attempt.id, trigger, result.failure);
    const { write, report } = await this.outcomes.success(call, result.tokens);
    const applied = await this.repo.applySuccesses([write]);
    this.outcomes.afterSuccess(call, applied.has(row.id));
    return report;
  }

  /**
   * Under the lock: asks the policy what to do, then checks the integration's rate limit, makes sure the lock
   * outlives the call, closes attempts a dead process left open, and builds the call. Writes only hold-backs.
   */
  private async prepare(
    row: RefreshRow,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
    lock: HeldLock | undefined,
  ): Promise<{ done: RefreshReport } | { call: PlannedCall }> {
    let decision = plan(row, trigger, minTtlSeconds, this.config, Date.now());
    if (decision.kind === 'call') {
      const limitedFor = await this.rateLimits.limitedFor(row.integration.id);
      if (limitedFor > 0) decision = rateLimitedHold(limitedFor);
    }
    if (decision.kind === 'done') return { done: decision.report };
    if (decision.kind === 'hold') {
      return { done: await this.outcomes.holdBack(row, trigger, decision.failure, decision.waitSeconds) };
    }
    if (lock && decision.lockTtlMs > this.defaultLockTtlMs() && !(await lock.extend(decision.lockTtlMs))) {
      // The lock expired under us (a stalled process): someone else may be refreshing now; do not call.
      return { done: reportFromRow(row, 'transient', false, 5) };
    }
    if (row.hasOpenAttempts) await this.recoverInterruptedAttempts(row);
    return {
      call: await buildRefreshCall(row, trigger, decision.timeoutMs, this.cipher, this.providers),
    };
  }

  /** The provider call, with one quick retry of an ambiguous failure where the provider has a grace window. */
  private async execute(call: PlannedCall): Promise<RefreshResult> {
    let result = await this.callProvider(call.provider, () => call.adapter.refresh(call.request));
    if (!result.ok && result.failure.ambiguous && (call.entry.graceSeconds ?? 0) > 0) {
      // The request may have reached the provider; inside its grace window the same RT works once more.
      result = await this.callProvider(call.provider, () => call.adapter.refresh(call.request));
    }
    return result;
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
}
