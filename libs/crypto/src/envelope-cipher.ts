import { randomBytes, randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { CryptoError } from './errors';
import { dataKeyIdOf, openWithKey, sealWithKey } from './sealed';
import {
  DATA_KEY_BYTES,
  dataKeyContext,
  type CryptoMetrics,
  type DataKeyRecord,
  type DataKeyStore,
  type KmsDriver,
} from './types';

export interface EnvelopeOptions {
  /** A data key stops sealing this long after its createdAt. */
  dataKeyMaxAgeMs: number;
  /** A data key stops sealing after this many seals by this process. */
  dataKeyMaxUses: number;
  /** Bound of the unwrapped data key cache (LRU). */
  cacheMaxEntries: number;
  /** Unwrapped data keys are dropped from the cache this long after they were loaded. */
  cacheMaxAgeMs: number;
  /**
   * A data key sealing in this process is checked against the store at least this often (on the next seal), so
   * that a key retired by another process stops sealing here within this time. Defaults to 5 s.
   */
  activeKeyRecheckMs?: number;
  /** Clock (ms since epoch); defaults to Date.now. */
  now?: () => number;
}

export const DEFAULT_ACTIVE_KEY_RECHECK_MS = 5_000;

interface ActiveKey {
  id: string;
  createdAt: number;
  uses: number;
  /** When the store last confirmed the key is not retired. */
  checkedAt: number;
}

/**
 * Envelope encryption: records are sealed with AES-256-GCM under a data key; data keys are generated and
 * wrapped by the KMS, stored wrapped, and cached unwrapped in memory (bounded, with a maximum age).
 * KMS calls grow with the number of data keys, not with the number of seals or opens.
 */
export class EnvelopeCipher {
  /** Unwrapped data keys: LRU, each dropped `cacheMaxAgeMs` after it was loaded (evicted buffers are not
   * zeroed: a seal or open in flight may still hold one). */
  private readonly cache: LRUCache<string, Buffer>;
  private readonly now: () => number;
  /** How stale this process's knowledge of its sealing key's retirement may be (see EnvelopeOptions). */
  readonly activeKeyRecheckMs: number;
  private active: ActiveKey | undefined;
  private rotation: Promise<void> | undefined;
  private readonly loading = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly kms: KmsDriver,
    private readonly store: DataKeyStore,
    private readonly options: EnvelopeOptions,
    private readonly metrics?: CryptoMetrics,
  ) {
    for (const name of ['dataKeyMaxAgeMs', 'dataKeyMaxUses', 'cacheMaxEntries', 'cacheMaxAgeMs'] as const) {
      const value = options[name];
      if (!(value > 0)) throw new RangeError(`EnvelopeOptions.${name} must be positive`);
    }
    this.now = options.now ?? Date.now;
    this.activeKeyRecheckMs = options.activeKeyRecheckMs ?? DEFAULT_ACTIVE_KEY_RECHECK_MS;
    this.cache = new LRUCache({
      max: options.cacheMaxEntries,
      ttl: options.cacheMaxAgeMs,
      ttlResolution: 0,
      perf: { now: this.now },
    });
  }

  async seal(plaintext: string, aad: string): Promise<Buffer> {
    for (;;) {
      const active = this.active;
      const usable = active !== undefined && this.usable(active);
      if (usable && this.now() - active.checkedAt < this.activeKeyRecheckMs) {
        active.uses += 1; // reserved synchronously so concurrent seals respect dataKeyMaxUses
        const key = this.cachedKey(active.id) ?? (await this.loadKey(active.id));
        return sealWithKey(key, active.id, plaintext, aad);
      }
      this.rotation ??= (usable ? this.recheck(active) : this.replaceActive(active?.id)).finally(() => {
        this.rotation = undefined;
      });
      await this.rotation;
    }
  }

  /**
   * This process stops sealing under `id` at once (the process that retires a key calls it; the others notice
   * within activeKeyRecheckMs). The key still opens what is sealed under it.
   */
  stopSealingWith(id: string): void {
    if (this.active?.id === id) this.active = undefined;
  }

  async open(sealed: Buffer, aad: string): Promise<string> {
    const id = dataKeyIdOf(sealed);
    const key = this.cachedKey(id) ?? (await this.loadKey(id));
    return openWithKey(key, sealed, aad).toString('utf8');
  }

  /** Opens without awaiting when the data key is cached; undefined on a cache miss. Throws on tamper. */
  openCached(sealed: Buffer, aad: string): string | undefined {
    const key = this.cachedKey(dataKeyIdOf(sealed));
    return key && openWithKey(key, sealed, aad).toString('utf8');
  }

  dataKeyIdOf(sealed: Buffer): string {
    return dataKeyIdOf(sealed);
  }

  /** Re-wraps every stored data key under the KMS's current master key. Records are not re-sealed. */
  async rewrapDataKeys(): Promise<number> {
    let count = 0;
    for (const record of await this.store.listAll()) {
      await this.rewrap(record);
      count += 1;
    }
    return count;
  }

  /** Re-wraps one data key under the KMS's current master key; returns the KMS key ID it is now under. */
  async rewrap(record: DataKeyRecord): Promise<string> {
    const plaintext = this.cachedKey(record.id) ?? (await this.unwrap(record));
    const { wrapped, kmsKeyId } = await this.kms.encrypt(plaintext, dataKeyContext(record.id));
    await this.store.updateWrapping(record.id, kmsKeyId, wrapped);
    return kmsKeyId;
  }

  /** The KMS key ID new wraps go under (as the KMS names it: for AWS the key's ARN), by wrapping a throwaway. */
  async currentKmsKeyId(): Promise<string> {
    const { kmsKeyId } = await this.kms.encrypt(randomBytes(DATA_KEY_BYTES), { purpose: 'vault-kms-probe' });
    return kmsKeyId;
  }

  ping(): Promise<void> {
    return this.kms.ping();
  }

  private usable(key: ActiveKey): boolean {
    return key.uses < this.options.dataKeyMaxUses && this.fresh(key.createdAt);
  }

  private fresh(createdAt: number): boolean {
    return this.now() - createdAt < this.options.dataKeyMaxAgeMs;
  }

  private cachedKey(id: string): Buffer | undefined {
    const key = this.cache.get(id);
    this.metrics?.dataKeyCache(key ? 'hit' : 'miss');
    return key;
  }

  /** Keeps sealing with `active` if the store says it is still not retired; otherwise drops it. */
  private async recheck(active: ActiveKey): Promise<void> {
    const record = await this.store.findById(active.id);
    if (record && record.retiredAt === null) active.checkedAt = this.now();
    else if (this.active === active) this.active = undefined;
  }

  /** Single-flight: picks up the store's active key (unless it is the one being replaced) or creates one. */
  private async replaceActive(exhaustedId: string | undefined): Promise<void> {
    const current = await this.store.findActive();
    if (current && current.id !== exhaustedId && this.fresh(current.createdAt.getTime())) {
      if (!this.cache.get(current.id)) this.cache.set(current.id, await this.unwrap(current));
      this.active = {
        id: current.id,
        createdAt: current.createdAt.getTime(),
        uses: 0,
        checkedAt: this.now(),
      };
      return;
    }
    const id = randomUUID();
    const { plaintext, wrapped, kmsKeyId } = await this.kms.generateDataKey(dataKeyContext(id));
    checkKeyLength(plaintext);
    const record = await this.store.insert({ id, kmsKeyId, wrappedKey: wrapped });
    this.cache.set(id, plaintext);
    this.active = { id, createdAt: record.createdAt.getTime(), uses: 0, checkedAt: this.now() };
  }

  /** Single-flight load of a data key that is not in the cache: store lookup, then KMS unwrap. */
  private loadKey(id: string): Promise<Buffer> {
    let pending = this.loading.get(id);
    if (!pending) {
      pending = (async () => {
        const record = await this.store.findById(id);
        if (!record) throw new CryptoError('unknown_data_key', `unknown data key ${id}`);
        const key = await this.unwrap(record);
        this.cache.set(id, key);
        return key;
      })().finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async unwrap(record: DataKeyRecord): Promise<Buffer> {
    const key = await this.kms.decrypt(record.wrappedKey, dataKeyContext(record.id), record.kmsKeyId);
    checkKeyLength(key);
    return key;
  }
}

function checkKeyLength(key: Buffer): void {
  if (key.length !== DATA_KEY_BYTES) {
    throw new CryptoError('kms_unwrap_failed', `KMS returned a data key of unexpected length`);
  }
}
