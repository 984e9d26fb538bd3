import type { DataKeyRecord, DataKeyStore } from '../types';

/** In-memory DataKeyStore for tests; counts calls and accepts an injectable clock. */
export class MemoryDataKeyStore implements DataKeyStore {
  private readonly records: DataKeyRecord[] = [];
  readonly calls = { findActive: 0, findById: 0, insert: 0, listAll: 0, updateWrapping: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  findActive(): Promise<DataKeyRecord | null> {
    this.calls.findActive += 1;
    let newest: DataKeyRecord | undefined;
    for (const r of this.records) {
      if (r.retiredAt === null && (!newest || r.createdAt.getTime() >= newest.createdAt.getTime()))
        newest = r;
    }
    return Promise.resolve(newest ? copy(newest) : null);
  }

  findById(id: string): Promise<DataKeyRecord | null> {
    this.calls.findById += 1;
    const record = this.records.find((r) => r.id === id);
    return Promise.resolve(record ? copy(record) : null);
  }

  insert(record: { id: string; kmsKeyId: string; wrappedKey: Buffer }): Promise<DataKeyRecord> {
    this.calls.insert += 1;
    if (this.records.some((r) => r.id === record.id)) {
      return Promise.reject(new Error(`duplicate data key ${record.id}`));
    }
    const stored: DataKeyRecord = {
      ...record,
      wrappedKey: Buffer.from(record.wrappedKey),
      createdAt: new Date(this.now()),
      retiredAt: null,
    };
    this.records.push(stored);
    return Promise.resolve(copy(stored));
  }

  listAll(): Promise<DataKeyRecord[]> {
    this.calls.listAll += 1;
    return Promise.resolve(this.records.map(copy));
  }

  updateWrapping(id: string, kmsKeyId: string, wrappedKey: Buffer): Promise<void> {
    this.calls.updateWrapping += 1;
    const record = this.records.find((r) => r.id === id);
    if (!record) return Promise.reject(new Error(`unknown data key ${id}`));
    record.kmsKeyId = kmsKeyId;
    record.wrappedKey = Buffer.from(wrappedKey);
    return Promise.resolve();
  }

  /** Test helper: marks a key retired. */
  retire(id: string): void {
    const record = this.records.find((r) => r.id === id);
    if (record) record.retiredAt = new Date(this.now());
  }

  get size(): number {
    return this.records.length;
  }
}

function copy(r: DataKeyRecord): DataKeyRecord {
  return {
    ...r,
    wrappedKey: Buffer.from(r.wrappedKey),
    createdAt: new Date(r.createdAt),
    retiredAt: r.retiredAt && new Date(r.retiredAt),
  };
}
