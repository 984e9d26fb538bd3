/**
 * Group commit for the refresh engine's writes: items submitted while a flush is running are written together
 * by the next one (one multi-row statement), so concurrent refreshes share round trips without any of them
 * waiting for a timer or for a slow neighbour's provider call. When a multi-row flush fails, each of its items
 * is tried alone: one item's trouble (a connection deleted meanwhile) never costs another its write.
 */
export class Coalescer<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;

  constructor(
    private readonly writeMany: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // Let the answers that arrived together join this statement.
    await new Promise((r) => setImmediate(r));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        const results = await this.writeMany(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(results[i] as R));
      } catch (err) {
        if (batch.length === 1) batch[0]?.reject(err);
        else await Promise.all(batch.map((b) => this.writeAlone(b)));
      }
    }
    this.flushing = false;
  }

  private async writeAlone(b: { item: T; resolve: (r: R) => void; reject: (err: unknown) => void }) {
    try {
      const [r] = await this.writeMany([b.item]);
      b.resolve(r as R);
    } catch (err) {
      b.reject(err);
    }
  }
}
