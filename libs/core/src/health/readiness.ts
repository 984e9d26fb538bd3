import type { EnvelopeCipher } from '@vault/crypto';
import type { Database } from '@vault/persistence';
import type { RedisService } from '../redis/redis.service';

export type DependencyName = 'postgres' | 'redis' | 'kms';

/**
 * Checks of the three dependencies, each bounded by a timeout. The KMS answer is cached for 30 s so that
 * frequent readiness probes do not turn into KMS traffic.
 */
export class ReadinessChecks {
  private kmsOkUntil = 0;

  constructor(
    private readonly db: Database,
    private readonly redis: RedisService,
    private readonly cipher: EnvelopeCipher,
  ) {}

  async check(name: DependencyName, timeoutMs = 2000): Promise<void> {
    await withTimeout(this.run(name), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
  }

  private async run(name: DependencyName): Promise<void> {
    switch (name) {
      case 'postgres':
        await this.db.ping();
        return;
      case 'redis':
        await this.redis.ping();
        return;
      case 'kms':
        if (Date.now() < this.kmsOkUntil) return;
        await this.cipher.ping();
        this.kmsOkUntil = Date.now() + 30_000;
        return;
    }
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
