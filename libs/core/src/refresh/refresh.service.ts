import { Logger } from '@nestjs/common';
import type { EnvelopeCipher } from '@vault/crypto';
import type {
  ConnectionsRepository,
  IntegrationsRepository,
  RefreshAttemptsRepository,
  RefreshRepository,
  RefreshRow,
  RefreshScheduleRepository,
  RefreshTrigger,
  TokenRow,
} from '@vault/persistence';
import type { ProviderRegistry } from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import { VaultError } from '../errors/vault-error';
import type { MetricsService } from '../metrics/metrics.service';
import type { RedisService } from '../redis/redis.service';
import { isFresh, type OnDemandRefresher } from '../tokens/token.service';
import { Coalescer } from './coalescer';
import { errorName, LockKeeper } from './lock-keeper';
import { RedisRateLimits } from './rate-limit-store';
import { RedisLocks, type HeldLock } from './redis-lock';
import { RefreshOutcomes } from './refresh-outcome';
import { afterWaiting, lockTtlMs } from './refresh-policy';
import { RefreshWork } from './refresh-work';
import {
  NO_EVENTS,
  reportFromRow,
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
 * in-process single flight → Redis lock (owner token, kept alive while its own work runs) → re-read under
 * the lock → the connection's work (refresh-work: decision, journal, provider call, fenced write of the
 * outcome). A reader that finds the lock taken waits for the holder's result.
 */
export class RefreshService implements OnDemandRefresher {
  private readonly logger = new Logger('Refresh');
  private readonly inflight = new Map<string, Promise<RefreshReport>>();
  private readonly locks: RedisLocks;
  private readonly keeper: LockKeeper;
  private readonly work: RefreshWork;
  private readonly releases: Coalescer<HeldLock, null>;

  constructor(
    private readonly repo: RefreshRepository,
    attempts: RefreshAttemptsRepository,
    schedule: RefreshScheduleRepository,
    integrations: IntegrationsRepository,
    private readonly connections: ConnectionsRepository,
    cipher: EnvelopeCipher,
    providers: ProviderRegistry,
    redis: RedisService,
    metrics: MetricsService,
    private readonly config: VaultConfig,
    events: RefreshEvents = NO_EVENTS,
  ) {
    this.locks = new RedisLocks(redis.client, redis.prefix);
    this.keeper = new LockKeeper(this.locks, Math.floor(this.defaultLockTtlMs() / 3));
    this.releases = new Coalescer(async (locks) => {
      await this.locks.releaseMany(locks);
      return locks.map(() => null);
    });
    const rateLimits = new RedisRateLimits(redis.client, redis.prefix);
    const outcomes = new RefreshOutcomes({
      repo,
      attempts,
      schedule,
      integrations,
      cipher,
      rateLimits,
      events,
      config,
      count: (row, trigger, outcome) =>
        metrics.refreshTotal.inc({
          provider: row.integration.provider,
          integration: row.integration.key,
          trigger,
          outcome,
        }),
    });
    this.work = new RefreshWork({
      repo,
      attempts,
      cipher,
      providers,
      metrics,
      config,
      outcomes,
      rateLimits,
      keeper: this.keeper,
    });
  }

  /** Refreshes (or joins the refresh of) one connection. Never throws for provider failures. */
  refresh(id: string, trigger: RefreshTrigger, minTtlSeconds = 0): Promise<RefreshReport> {
    const running = this.inflight.get(id);
    if (running) return running;
    const p = this.run(id, trigger, minTtlSeconds, () => this.inflight.delete(id));
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
      ...(report.reason ? { reason: report.reason } : {}),
    });
  }

  /**
   * Scheduled refreshes of a batch of connections due together (one BullMQ job): the locks and the reads take
   * one round trip for the whole batch; then each connection's work runs on its own (its journal entry and
   * its write grouped with its neighbours' when they happen together), so one connection's trouble never
   * costs another its refresh. Connections already being refreshed anywhere are skipped.
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
    try {
      const ttl = this.defaultLockTtlMs();
      const locks = await this.locks.tryAcquireMany(mine, ttl);
      for (const lock of locks.values()) this.keeper.keep(lock, ttl);
      const letGo = async (lock: HeldLock) => {
        if (!locks.delete(lock.name)) return;
        this.keeper.drop(lock);
        await this.releases.submit(lock).catch((err: unknown) => {
          this.logger.warn({ error: errorName(err), connectionId: lock.name }, 'lock release failed');
        });
      };
      try {
        const rows = await this.repo.loadMany([...locks.keys()]);
        // Each lock goes as soon as its own connection's work is over, not after the slowest neighbour's.
        await Promise.all(
          rows.map(async (row) => {
            const { result } = this.work.start(row, locks.get(row.id), 'scheduled', 0);
            reports.set(row.id, await result.catch((err: unknown) => this.lost(row.id, err)));
            const lock = locks.get(row.id);
            if (lock) await letGo(lock);
          }),
        );
      } finally {
        await Promise.all([...locks.values()].map(letGo));
      }
    } finally {
      for (const id of mine) settle.get(id)?.(reports.get(id) ?? transientReport());
    }
    return mine.map((id) => reports.get(id)?.outcome ?? 'transient');
  }

  /** A connection of a batch whose work threw (deleted meanwhile, a dependency down): it alone is lost. */
  private lost(connectionId: string, err: unknown): RefreshReport {
    this.logger.warn({ connectionId, error: errorName(err) }, 'scheduled refresh failed');
    return transientReport();
  }

  private defaultLockTtlMs(): number {
    return lockTtlMs(this.config.PROVIDER_TIMEOUT_MS);
  }

  /** Takes the lock or waits for its holder; `forget` is called once the lock (if ours) has been let go. */
  private async run(
    id: string,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
    forget: () => void,
  ): Promise<RefreshReport> {
    let handedOver = false;
    try {
      const ttl = this.defaultLockTtlMs();
      for (let round = 0; round < 3; round++) {
        const lock = await this.locks.tryAcquire(id, ttl);
        if (lock) {
          handedOver = true;
          return await this.underLock(lock, trigger, minTtlSeconds, ttl, forget);
        }
        // Someone else is refreshing this connection: never call the provider beside them.
        const before = await this.mustLoad(id);
        if (trigger === 'scheduled') return reportFromRow(before, 'success', false, null);
        await this.waitForRelease(id, ttl);
        const verdict = afterWaiting(before, await this.mustLoad(id), trigger, minTtlSeconds, Date.now());
        if (verdict) return verdict;
      }
      return reportFromRow(await this.mustLoad(id), 'transient', false, 5);
    } finally {
      if (!handedOver) forget();
    }
  }

  /**
   * The work under our lock, kept alive meanwhile. The caller gets the work's report once the lock is let go,
   * or 503 `unavailable` as soon as a write has to be retried; the lock and the single flight last until the
   * write has landed, so no other refresher presents a refresh token the provider has already rotated.
   */
  private async underLock(
    lock: HeldLock,
    trigger: RefreshTrigger,
    minTtlSeconds: number,
    ttl: number,
    forget: () => void,
  ): Promise<RefreshReport> {
    this.keeper.keep(lock, ttl);
    const letGo = async () => {
      this.keeper.drop(lock);
      await lock
        .release()
        .catch((err: unknown) =>
          this.logger.warn({ error: errorName(err), connectionId: lock.name }, 'lock release failed'),
        );
      forget();
    };
    let row: RefreshRow;
    try {
      row = await this.mustLoad(lock.name);
    } catch (err) {
      await letGo();
      throw err;
    }
    const { result, stalled } = this.work.start(row, lock, trigger, minTtlSeconds);
    return Promise.race([result.finally(letGo), stalled]);
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
}
