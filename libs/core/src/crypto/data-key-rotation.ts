import type { EnvelopeCipher } from '@vault/crypto';

/** After the KMS key was rotated: re-wraps every data key under the current one (records are not re-sealed). */
export class DataKeyRotation {
  constructor(private readonly cipher: EnvelopeCipher) {}

  /** Returns how many data keys were re-wrapped. */
  rewrapAll(): Promise<number> {
    return this.cipher.rewrapDataKeys();
  }
}
