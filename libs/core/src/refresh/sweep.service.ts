import type { JobsOptions } from 'bullmq';
import type { RefreshRepository } from '@vault/persistence';
import type { VaultConfig } from '../config/vault-config';
import { refreshJobId, type RefreshJob } from '../jobs/queues';

/** The part of a BullMQ queue the sweep uses. */
export interface RefreshJobSink {
  addBulk(jobs: { name: string; data: RefreshJob; opts: JobsOptions }[]): Promise<unknown>;
}

/**
 * The scheduler sweep (design section 4): claims connections due within the lookahead, in batches, with
 * SKIP LOCKED so any number of workers share the work, and enqueues them at once as BullMQ jobs (connections
 * due within the same second share a job; the job ID collapses duplicates). `next_refresh_at` is a deadline:
 * work is handed out up to SWEEP_LOOKAHEAD_SECONDS before it, so a burst of connections due together is
 * spread over that window instead of piling up at its due time. PostgreSQL stays the source of truth: a job lost with Redis
 * is claimed again once its lease has passed.
 */
export class SweepService {
  private running = false;

  constructor(
    private readonly repo: RefreshRepository,
    private readonly queue: RefreshJobSink,
    private readonly config: VaultConfig,
  ) {}

  /** One sweep: claims until nothing due is left (bounded rounds). Returns how many jobs it enqueued. */
  async sweep(maxRounds = 20): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      let total = 0;
      for (let round = 0; round < maxRounds; round++) {
        const now = Date.now();
        const horizon = new Date(now + this.config.SWEEP_LOOKAHEAD_SECONDS * 1000);
        const lease = new Date(horizon.getTime() + this.config.REFRESH_CLAIM_LEASE_SECONDS * 1000);
        const claimed = await this.repo.claimDue(horizon, lease, this.config.SWEEP_BATCH_SIZE);
        if (claimed.length === 0) break;
        const batches = batchByDueTime(claimed, this.config.REFRESH_JOB_BATCH_SIZE);
        try {
          await this.queue.addBulk(
            batches.map((items) => {
              return {
                name: 'refresh',
                data: { items },
                opts: {
                  jobId: refreshJobId(items),
                  removeOnComplete: true,
                  removeOnFail: true,
                  attempts: 1,
                },
              };
            }),
          );
        } catch (err) {
          await this.repo.releaseClaim(claimed.map((c) => c.id));
          throw err;
        }
        total += claimed.length;
        if (claimed.length < this.config.SWEEP_BATCH_SIZE) break;
      }
      return total;
    } finally {
      this.running = false;
    }
  }
}

/** Groups connections (sorted by due time) into jobs of at most `size`, each spanning at most one second. */
export function batchByDueTime(claimed: { id: string; dueAt: Date }[], size: number): RefreshJob['items'][] {
  const sorted = [...claimed].sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  const batches: RefreshJob['items'][] = [];
  let current: RefreshJob['items'] = [];
  for (const c of sorted) {
    const dueAt = c.dueAt.getTime();
    const first = current[0];
    if (first && (current.length >= size || dueAt - first.dueAt > 1000)) {
      batches.push(current);
      current = [];
    }
    current.push({ connectionId: c.id, dueAt });
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
