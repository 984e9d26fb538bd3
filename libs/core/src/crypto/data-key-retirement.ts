import { setTimeout as sleep } from 'node:timers/promises';
import type { EnvelopeCipher } from '@vault/crypto';
import {
  ForeignKeyViolation,
  SEALED_FIELDS,
  type DataKeysRepository,
  type SealedField,
  type SealedValuesRepository,
} from '@vault/persistence';
import { VaultError } from '../errors/vault-error';
import { aadOf } from './aad';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RetirementProgress {
  /** Values re-sealed by this run. */
  resealed: number;
  /** Values still sealed under the key, read from the data. */
  remaining: number;
}

export interface RetirementOptions {
  /** Values re-sealed per statement. */
  batchSize: number;
  /**
   * The key is deleted no sooner than this after it was retired: every process has stopped sealing under it by
   * then (EnvelopeCipher.activeKeyRecheckMs) and written what it sealed just before.
   */
  graceMs: number;
}

/**
 * Retiring a data key: every value sealed under it is re-sealed under the current key, in batches, then the key
 * is deleted. All state is in the data (the key's `retired_at`, the values still under it), so a run cut off by a
 * crash is resumed by simply running again. Reads go on throughout (the retired key still opens until it is
 * deleted, and nothing is left under it by then); a value written meanwhile is never overwritten (the re-seal is
 * a compare-and-set on the sealed bytes), and PostgreSQL's foreign keys refuse the delete while anything is
 * still sealed under the key.
 */
export class DataKeyRetirement {
  constructor(
    private readonly cipher: EnvelopeCipher,
    private readonly dataKeys: DataKeysRepository,
    private readonly sealed: SealedValuesRepository,
    private readonly options: RetirementOptions,
  ) {}

  /** Marks the key retired: this process stops sealing under it now, the others within the re-check time. */
  async retire(dataKeyId: string): Promise<void> {
    if (!UUID.test(dataKeyId)) throw VaultError.validation('id', 'must be a UUID');
    const record = await this.dataKeys.retire(dataKeyId);
    if (!record) throw VaultError.notFound('data key');
    this.cipher.stopSealingWith(dataKeyId);
  }

  remaining(dataKeyId: string): Promise<number> {
    return this.sealed.countUnder(dataKeyId);
  }

  /** Re-seals everything under the (retired) key and deletes it. Returns false if the key was already gone. */
  async run(dataKeyId: string, report: (p: RetirementProgress) => Promise<void>): Promise<boolean> {
    const record = await this.dataKeys.retire(dataKeyId);
    if (!record) return false;
    this.cipher.stopSealingWith(dataKeyId);
    const retiredAt = record.retiredAt?.getTime() ?? Date.now();
    let resealed = 0;
    for (;;) {
      for (const field of SEALED_FIELDS) {
        resealed += await this.resealField(field, dataKeyId, async (n) => {
          await report({ resealed: resealed + n, remaining: await this.sealed.countUnder(dataKeyId) });
        });
      }
      // A value sealed under the key by a process that had not noticed the retirement yet is caught by the
      // next pass; the wait lets every process notice first.
      const wait = retiredAt + this.options.graceMs - Date.now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      if ((await this.sealed.countUnder(dataKeyId)) > 0) continue;
      try {
        await this.dataKeys.delete(dataKeyId);
      } catch (err) {
        if (err instanceof ForeignKeyViolation) continue; // written under it in the meantime: another pass
        throw err;
      }
      await report({ resealed, remaining: 0 });
      return true;
    }
  }

  /** One pass over one sealed column, in ID order; returns how many values it re-sealed. */
  private async resealField(
    field: SealedField,
    dataKeyId: string,
    progress: (resealedInField: number) => Promise<void>,
  ): Promise<number> {
    let done = 0;
    let after: string | null = null;
    for (;;) {
      const batch = await this.sealed.listUnder(field, dataKeyId, after, this.options.batchSize);
      const last = batch[batch.length - 1];
      if (!last) return done;
      const values = await Promise.all(
        batch.map(async (v) => {
          const context = aadOf(field, v.id);
          const plaintext = await this.cipher.open(v.sealed, context).catch((err: unknown) => {
            const reason = err instanceof Error ? err.message : String(err);
            throw new Error(`cannot open ${field} of ${v.id} to re-seal it: ${reason}`);
          });
          return { id: v.id, old: v.sealed, sealed: await this.cipher.seal(plaintext, context) };
        }),
      );
      done += await this.sealed.replace(field, values);
      after = last.id;
      await progress(done);
    }
  }
}
