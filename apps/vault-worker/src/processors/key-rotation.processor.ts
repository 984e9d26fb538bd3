import { Inject } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { KEY_ROTATION_QUEUE, KeyRotationService, type KeyRotationJob } from '@vault/core';
import type { Job } from 'bullmq';

/**
 * Runs key rotation jobs (a data key's retirement, a re-wrap), one at a time per worker. A worker killed mid-job
 * leaves it active with a lock that lapses after `lockDuration`; another worker's stalled-job check then runs
 * it again, and the job resumes from what the data says is left. A long retirement stalls many times at worst
 * (a worker crashing in a loop): `maxStalledCount` is high so it is not failed for that.
 */
@Processor(KEY_ROTATION_QUEUE, {
  concurrency: 1,
  lockDuration: 15_000,
  stalledInterval: 5_000,
  maxStalledCount: 50,
})
export class KeyRotationProcessor extends WorkerHost {
  constructor(@Inject(KeyRotationService) private readonly rotation: KeyRotationService) {
    super();
  }

  process(job: Job<KeyRotationJob>): Promise<void> {
    return this.rotation.run(job);
  }
}
