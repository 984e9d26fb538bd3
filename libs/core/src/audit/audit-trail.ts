import type { AuditEntry, AuditRepository } from '@vault/persistence';

/** Management actions, one audit row each (token reads are `token.read`, aggregated). */
export type AuditAction =
  | 'api_key.created'
  | 'api_key.revoked'
  | 'integration.created'
  | 'integration.updated'
  | 'integration.deleted'
  | 'connection.imported'
  | 'connection.grant_replaced'
  | 'connection.refresh_forced'
  | 'connection.revoked'
  | 'connection.deleted'
  | 'connect_session.started'
  | 'data_key.retired'
  | 'data_keys.rewrap_started';

export const TOKEN_READ = 'token.read';

export interface AuditTrailOptions {
  /** Distinct (key, connection) pairs plus pending actions held at most; beyond it records are dropped. */
  maxEntries: number;
  flushIntervalMs: number;
}

interface ReadAggregate {
  count: number;
  firstAt: number;
  lastAt: number;
}

/** What the trail needs to report: dropped records and flush trouble (never a secret). */
export interface AuditSink {
  dropped(n: number): void;
  flushFailed(err: unknown, pending: number): void;
}

/**
 * Who read which connection's token, and every management action, written in batches. A token read costs
 * two Map lookups and an increment (no I/O): reads are aggregated per API key and connection in memory and
 * written every `flushIntervalMs` as one row per pair, with the count and the first and last read. The
 * buffer is bounded; a record that does not fit is dropped and counted (`vault_audit_rows_dropped_total`).
 * A flush that fails puts its rows back; `close()` flushes what is left (graceful shutdown loses nothing).
 */
export class AuditTrail {
  private reads = new Map<string, Map<string, ReadAggregate>>();
  private readCount = 0;
  private actions: AuditEntry[] = [];
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: Pick<AuditRepository, 'insertMany'>,
    private readonly sink: AuditSink,
    private readonly options: AuditTrailOptions,
  ) {}

  /** Records one token read (the hot path: no I/O, no allocation once the pair is known). */
  tokenRead(apiKeyId: string, connectionId: string, now = Date.now()): void {
    let byConnection = this.reads.get(apiKeyId);
    const agg = byConnection?.get(connectionId);
    if (agg) {
      agg.count++;
      agg.lastAt = now;
      return;
    }
    if (this.pending >= this.options.maxEntries) return this.sink.dropped(1);
    if (!byConnection) this.reads.set(apiKeyId, (byConnection = new Map<string, ReadAggregate>()));
    byConnection.set(connectionId, { count: 1, firstAt: now, lastAt: now });
    this.readCount++;
  }

  /** Records one management action (one row). */
  action(
    action: AuditAction,
    apiKeyId: string | null,
    on: { connectionId?: string | null; target?: string | null } = {},
  ): void {
    if (this.pending >= this.options.maxEntries) return this.sink.dropped(1);
    const at = new Date();
    this.actions.push({
      action,
      apiKeyId,
      connectionId: on.connectionId ?? null,
      target: on.target ?? null,
      count: 1,
      firstAt: at,
      lastAt: at,
    });
  }

  /** Records waiting for the next flush. */
  get pending(): number {
    return this.readCount + this.actions.length;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Writes everything buffered now (one statement per 2,000 rows). Flushes never overlap: a call during a
   * flush waits for it and then flushes what came in meanwhile. On failure the rows go back into the buffer.
   */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.pending === 0) return;
    const batch = this.take();
    this.running = this.repo
      .insertMany(batch)
      .catch((err: unknown) => {
        this.putBack(batch);
        this.sink.flushFailed(err, this.pending);
        throw err;
      })
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }

  /** Stops the timer and writes what is left, retrying a failing database a few times before giving up. */
  async close(attempts = 3, pauseMs = 500): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (let i = 1; ; i++) {
      try {
        await this.flush();
        return;
      } catch {
        if (i >= attempts) break;
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
    const lost = this.pending;
    this.reads.clear();
    this.readCount = 0;
    this.actions = [];
    if (lost > 0) this.sink.dropped(lost);
  }

  private take(): AuditEntry[] {
    const batch: AuditEntry[] = this.actions;
    for (const [apiKeyId, byConnection] of this.reads) {
      for (const [connectionId, a] of byConnection) {
        batch.push({
          action: TOKEN_READ,
          apiKeyId,
          connectionId,
          target: null,
          count: a.count,
          firstAt: new Date(a.firstAt),
          lastAt: new Date(a.lastAt),
        });
      }
    }
    this.reads = new Map();
    this.readCount = 0;
    this.actions = [];
    return batch;
  }

  /** A failed batch goes back in front, merged with reads recorded meanwhile; what no longer fits is counted. */
  private putBack(batch: AuditEntry[]): void {
    let lost = 0;
    const actions: AuditEntry[] = [];
    for (const e of batch) {
      if (e.action !== TOKEN_READ || !e.apiKeyId || !e.connectionId) {
        if (this.pending + actions.length < this.options.maxEntries) actions.push(e);
        else lost++;
        continue;
      }
      let byConnection = this.reads.get(e.apiKeyId);
      const agg = byConnection?.get(e.connectionId);
      if (agg) {
        agg.count += e.count;
        agg.firstAt = Math.min(agg.firstAt, e.firstAt.getTime());
        continue;
      }
      if (this.pending + actions.length >= this.options.maxEntries) {
        lost++;
        continue;
      }
      if (!byConnection) this.reads.set(e.apiKeyId, (byConnection = new Map<string, ReadAggregate>()));
      byConnection.set(e.connectionId, {
        count: e.count,
        firstAt: e.firstAt.getTime(),
        lastAt: e.lastAt.getTime(),
      });
      this.readCount++;
    }
    this.actions = [...actions, ...this.actions];
    if (lost > 0) this.sink.dropped(lost);
  }
}
