import type { JobsOptions } from 'bullmq';
import type { RefreshScheduleRepository } from '@vault/persistence';
import type { VaultConfig } from '../config/vault-config';
import { refreshJobId, type RefreshJob } from '../jobs/queues';
import { earlyWindowMs } from './schedule';

/** Told when a sweep has completed (MetricsService: the `vault_sweep_last_success_timestamp_seconds` gauge). */
export interface SweepMetrics {
  sweepCompleted(): void;
}

/** The part of a BullMQ queue the sweep uses. */
export interface RefreshJobSink {
  addBulk(jobs: { name: string; data: RefreshJob; opts: JobsOptions }[]): Promise<unknown>;
}

/**
 * The scheduler sweep (README, "Scheduling"): claims connections due within the lookahead, in batches, with
 * SKIP LOCKED so any number of workers share the work, and enqueues them as delayed BullMQ jobs (connections
 * starting within the same second share a job; the job ID collapses duplicates). A refresh may start ahead
 * of its due time by the early window (see earlyWindowMs), so a burst of connections due together is spread
 * over that window instead of piling up at its due time. PostgreSQL stays the source of truth: a job lost with Redis
 * is claimed again once its lease has passed.
 *
 * Leased rows stay in the due-time index until they are refreshed, so each round resumes at the due time where
 * the last one ended rather than walking over every row claimed before it (a round costs one batch, not the
 * backlog so far). A sweep that stopped with work left (all rounds full) lets the next one resume there too; any
 * other sweep starts from the earliest due time, which picks up what a round passed over (a row another sweeper
 * held, a released claim, a lease that ran out).
 */
export class SweepService {
  private running = false;
  /** Where the next sweep starts: the due time the last one stopped at when it ran out of rounds, else null. */
  private resumeFrom: Date | null = null;

  constructor(
    private readonly repo: RefreshScheduleRepository,
    private readonly queue: RefreshJobSink,
    private readonly config: VaultConfig,
    private readonly metrics?: SweepMetrics,
  ) {}

  /** One sweep: claims until nothing due is left (bounded rounds). Returns how many jobs it enqueued. */
  async sweep(maxRounds = 20): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      let total = 0;
      let from = this.resumeFrom;
      this.resumeFrom = null;
      for (let round = 0; round < maxRounds; round++) {
        const now = Date.now();
        const horizon = new Date(now + this.config.SWEEP_LOOKAHEAD_SECONDS * 1000);
        const lease = new Date(horizon.getTime() + this.config.REFRESH_CLAIM_LEASE_SECONDS * 1000);
        const claimed = await this.repo.claimDue(horizon, lease, this.config.SWEEP_BATCH_SIZE, from);
        if (claimed.length === 0) break;
        for (const c of claimed) if (from === null || c.dueAt > from) from = c.dueAt;
        const batches = batchByStartTime(
          claimed.map((c) => ({
            id: c.id,
            dueAt: c.dueAt,
            startAt: new Date(
              c.dueAt.getTime() - earlyWindowMs(c.expiresAt, this.config.SWEEP_LOOKAHEAD_SECONDS, now),
            ),
          })),
          this.config.REFRESH_JOB_BATCH_SIZE,
        );
        try {
          await this.queue.addBulk(
            batches.map(({ startAt, items }) => ({
              name: 'refresh',
              data: { items },
              opts: {
                jobId: refreshJobId(items, lease),
                delay: Math.max(0, startAt - now),
                removeOnComplete: true,
                removeOnFail: true,
                attempts: 1,
              },
            })),
          );
        } catch (err) {
          await this.repo.releaseClaim(claimed.map((c) => c.id));
          throw err;
        }
        total += claimed.length;
        if (claimed.length < this.config.SWEEP_BATCH_SIZE) break;
        if (round === maxRounds - 1) this.resumeFrom = from;
      }
      this.metrics?.sweepCompleted();
      return total;
    } finally {
      this.running = false;
    }
  }
}

/**
 * Groups connections by when their refresh may start (sorted) into jobs of at most `size`, each spanning at
 * most one second; a job starts when its last member may.
 */
export function batchByStartTime(
  claimed: { id: string; dueAt: Date; startAt: Date }[],
  size: number,
): { startAt: number; items: RefreshJob['items'] }[] {
  const sorted = [...claimed].sort((a, b) => a.startAt.getTime() - b.startAt.getTime());
  const batches: { startAt: number; items: RefreshJob['items'] }[] = [];
  let current: { first: number; startAt: number; items: RefreshJob['items'] } | null = null;
  for (const c of sorted) {
    const startAt = c.startAt.getTime();
    if (current && (current.items.length >= size || startAt - current.first > 1000)) {
      batches.push({ startAt: current.startAt, items: current.items });
      current = null;
    }
    current ??= { first: startAt, startAt, items: [] };
    current.startAt = startAt;
    current.items.push({ connectionId: c.id, dueAt: c.dueAt.getTime() });
  }
  if (current) batches.push({ startAt: current.startAt, items: current.items });
  return batches;
}
