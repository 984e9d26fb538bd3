import { randomUUID } from 'node:crypto';
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { DataKeysRepository, SealedValuesRepository } from '@vault/persistence';
import { VaultError } from '../errors/vault-error';
import type { KeyRotationJob } from '../jobs/queues';
import type { DataKeyRetirement } from './data-key-retirement';
import type { DataKeyRotation } from './data-key-rotation';

export type KeyRotationKind = KeyRotationJob['kind'];
export type KeyRotationState = 'queued' | 'running' | 'done' | 'failed';

/** A key rotation job as the admin API shows it. `remaining` is read from the data, not from the job. */
export interface KeyRotationView {
  id: string;
  kind: KeyRotationKind;
  state: KeyRotationState;
  dataKeyId: string | null;
  /** For a re-wrap: the KMS key the data keys are moved under (known once the job has started). */
  kmsKeyId: string | null;
  /** Values re-sealed (retirement) or data keys re-wrapped (re-wrap) so far by the job's latest run. */
  done: number;
  /** What is left, counted in the database now; null while unknown (a re-wrap not started yet). */
  remaining: number | null;
  createdAt: Date;
  finishedAt: Date | null;
  /** Why the job failed (after its retries); never holds a secret. */
  error: string | null;
}

export interface DataKeyView {
  id: string;
  kmsKeyId: string;
  createdAt: Date;
  retiredAt: Date | null;
  /** Sealed values under the key, across every sealed column. */
  sealedValues: number;
}

interface Progress {
  done?: number;
  kmsKeyId?: string;
}

/** BullMQ's job states as the API names them (waiting, delayed, prioritized and the rest are 'queued'). */
const STATES: Partial<Record<string, KeyRotationState>> = {
  active: 'running',
  completed: 'done',
  failed: 'failed',
};

const JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 30 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/**
 * Online key rotation, as the admin API and the CLI start it and the worker runs it: data keys listed with
 * what is sealed under them, a data key retired (marked at once, re-sealed and deleted by a job), every data key
 * re-wrapped after a KMS key rotation (a job). One job per data key (and one re-wrap) at a time: starting it
 * again while it runs answers the running job.
 */
export class KeyRotationService {
  constructor(
    private readonly queue: Queue<KeyRotationJob>,
    private readonly dataKeys: DataKeysRepository,
    private readonly sealed: SealedValuesRepository,
    private readonly retirement: DataKeyRetirement,
    private readonly rewrap: DataKeyRotation,
  ) {}

  async listDataKeys(): Promise<DataKeyView[]> {
    const [keys, counts] = await Promise.all([this.dataKeys.listAll(), this.sealed.countByKey()]);
    return keys.map((k) => ({
      id: k.id,
      kmsKeyId: k.kmsKeyId,
      createdAt: k.createdAt,
      retiredAt: k.retiredAt,
      sealedValues: counts.get(k.id) ?? 0,
    }));
  }

  /** Retires the key now (nothing new is sealed under it) and starts the job that re-seals and deletes it. */
  async retireDataKey(dataKeyId: string): Promise<KeyRotationView> {
    await this.retirement.retire(dataKeyId);
    return this.view(await this.enqueue({ kind: 'retire_data_key', dataKeyId }, `retire-${dataKeyId}`));
  }

  async rewrapDataKeys(): Promise<KeyRotationView> {
    return this.view(await this.enqueue({ kind: 'rewrap_data_keys' }, 'rewrap'));
  }

  async get(jobId: string): Promise<KeyRotationView> {
    const job = await this.queue.getJob(jobId);
    if (!job) throw VaultError.notFound('key rotation job');
    return this.view(job);
  }

  /**
   * Starts a job for every retired key still present (a retirement whose job was lost: Redis emptied, or a crash
   * between the mark and the enqueue). The data says what is pending; a running job is not duplicated.
   */
  async resumePending(): Promise<number> {
    const pending = (await this.dataKeys.listAll()).filter((k) => k.retiredAt !== null);
    for (const k of pending)
      await this.enqueue({ kind: 'retire_data_key', dataKeyId: k.id }, `retire-${k.id}`);
    return pending.length;
  }

  /** The worker's side: runs one job, reporting progress into it. */
  async run(job: Job<KeyRotationJob>): Promise<void> {
    const data = job.data;
    if (data.kind === 'retire_data_key') {
      await this.retirement.run(data.dataKeyId, (p) => job.updateProgress({ done: p.resealed }));
    } else {
      await this.rewrap.run((p) => job.updateProgress({ done: p.rewrapped, kmsKeyId: p.kmsKeyId }));
    }
  }

  private async enqueue(data: KeyRotationJob, deduplicationId: string): Promise<Job<KeyRotationJob>> {
    const job = await this.queue.add(data.kind, data, {
      ...JOB_OPTIONS,
      jobId: randomUUID(),
      deduplication: { id: deduplicationId },
    });
    // Deduplicated: the answer names the job already under way.
    return (job.id && (await this.queue.getJob(job.id))) || job;
  }

  private async view(job: Job<KeyRotationJob>): Promise<KeyRotationView> {
    const state = await job.getState();
    const progress = (typeof job.progress === 'object' ? job.progress : {}) as Progress;
    const data = job.data;
    const kmsKeyId = progress.kmsKeyId ?? null;
    let remaining: number | null = null;
    if (data.kind === 'retire_data_key') remaining = await this.retirement.remaining(data.dataKeyId);
    else if (kmsKeyId) remaining = await this.rewrap.remaining(kmsKeyId);
    return {
      id: job.id ?? '',
      kind: data.kind,
      state: STATES[state] ?? 'queued',
      dataKeyId: data.kind === 'retire_data_key' ? data.dataKeyId : null,
      kmsKeyId,
      done: progress.done ?? 0,
      remaining,
      createdAt: new Date(job.timestamp),
      finishedAt: job.finishedOn ? new Date(job.finishedOn) : null,
      error: state === 'failed' ? (job.failedReason ?? 'failed') : null,
    };
  }
}
