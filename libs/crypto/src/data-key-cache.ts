interface Entry {
  key: Buffer;
  expiresAt: number;
}

/** Bounded LRU of unwrapped data keys; entries expire `maxAgeMs` after they were loaded. */
export class DataKeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Buffer | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(id, entry); // most recently used goes last
    return entry.key;
  }

  set(id: string, key: Buffer): void {
    // Evicted buffers are not zeroed: a seal/open in flight may still hold a reference.
    this.entries.delete(id);
    this.entries.set(id, { key, expiresAt: this.now() + this.maxAgeMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
