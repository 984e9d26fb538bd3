import type { EnvelopeCipher } from '@vault/crypto';
import type { DataKeysRepository } from '@vault/persistence';

export interface RewrapProgress {
  /** The KMS key every data key is being moved under. */
  kmsKeyId: string;
  rewrapped: number;
  /** Data keys still wrapped under another KMS key, read from the data. */
  remaining: number;
}

const BATCH = 50;

/**
 * After the KMS key was rotated: re-wraps every data key under the current one (records are not re-sealed).
 * Resumable: what is left is read from the data (keys whose kms_key_id is not the current one). Reads go on
 * throughout: a data key's wrapping and KMS key ID change together in one row, and the previous KMS key still
 * unwraps (the operator keeps it until this has finished).
 */
export class DataKeyRotation {
  constructor(
    private readonly cipher: EnvelopeCipher,
    private readonly dataKeys: DataKeysRepository,
  ) {}

  /** Returns how many data keys were re-wrapped. */
  rewrapAll(): Promise<number> {
    return this.cipher.rewrapDataKeys();
  }

  currentKmsKeyId(): Promise<string> {
    return this.cipher.currentKmsKeyId();
  }

  remaining(kmsKeyId: string): Promise<number> {
    return this.dataKeys.countWrappedOtherThan(kmsKeyId);
  }

  async run(report: (p: RewrapProgress) => Promise<void>): Promise<RewrapProgress> {
    const kmsKeyId = await this.cipher.currentKmsKeyId();
    let rewrapped = 0;
    for (;;) {
      const batch = await this.dataKeys.listWrappedOtherThan(kmsKeyId, BATCH);
      if (batch.length === 0) break;
      for (const record of batch) {
        const now = await this.cipher.rewrap(record);
        if (now !== kmsKeyId)
          throw new Error(`the KMS key changed during the re-wrap (${kmsKeyId} → ${now})`);
        rewrapped += 1;
      }
      await report({ kmsKeyId, rewrapped, remaining: await this.dataKeys.countWrappedOtherThan(kmsKeyId) });
    }
    const done = { kmsKeyId, rewrapped, remaining: 0 };
    await report(done);
    return done;
  }
}
