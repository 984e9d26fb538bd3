import type { Database } from '../database/database';

/** A row to write: aggregated reads (`count` > 1 possible) or one management action. */
export interface AuditEntry {
  action: string;
  apiKeyId: string | null;
  connectionId: string | null;
  target: string | null;
  count: number;
  firstAt: Date;
  lastAt: Date;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  createdAt: Date;
}

export interface AuditFilter {
  connectionId?: string;
  apiKeyId?: string;
  /** Rows with activity at or after this time (`last_at`). */
  since?: Date;
}

/** Rows per INSERT statement: a large flush goes in a few statements, never one per row. */
const CHUNK = 2000;

export class AuditRepository {
  constructor(private readonly db: Database) {}

  /** Writes a batch with one multi-row INSERT per CHUNK rows (arrays unnested by PostgreSQL). */
  async insertMany(entries: readonly AuditEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += CHUNK) {
      const part = entries.slice(i, i + CHUNK);
      await this.db.execute(
        `INSERT INTO audit_log (action, api_key_id, connection_id, target, count, first_at, last_at)
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::int[],
                              $6::timestamptz[], $7::timestamptz[])`,
        [
          part.map((e) => e.action),
          part.map((e) => e.apiKeyId),
          part.map((e) => e.connectionId),
          part.map((e) => e.target),
          part.map((e) => e.count),
          part.map((e) => e.firstAt),
          part.map((e) => e.lastAt),
        ],
      );
    }
  }

  /** Newest first, keyset-paginated by id. */
  async list(filter: AuditFilter, beforeId: string | null, limit: number): Promise<AuditRecord[]> {
    // `created_at >= since` is implied by `last_at >= since` (a row is written after its last read) and lets
    // the created_at index bound the scan when no key or connection narrows it.
    const rows = await this.db.query(
      `SELECT id, action, api_key_id, connection_id, target, count, first_at, last_at, created_at
       FROM audit_log
       WHERE ($1::uuid IS NULL OR connection_id = $1) AND ($2::uuid IS NULL OR api_key_id = $2)
         AND ($3::timestamptz IS NULL OR (last_at >= $3 AND created_at >= $3))
         AND ($4::bigint IS NULL OR id < $4)
       ORDER BY id DESC LIMIT $5`,
      [filter.connectionId ?? null, filter.apiKeyId ?? null, filter.since ?? null, beforeId, limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      action: r.action as string,
      apiKeyId: r.api_key_id as string | null,
      connectionId: r.connection_id as string | null,
      target: r.target as string | null,
      count: r.count as number,
      firstAt: r.first_at as Date,
      lastAt: r.last_at as Date,
      createdAt: r.created_at as Date,
    }));
  }

  /** Retention: deletes rows written before `before`, in bounded batches; returns how many went. */
  async prune(before: Date, batchSize = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.db.execute(
        `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE created_at < $1 LIMIT $2)`,
        [before, batchSize],
      );
      total += n;
      if (n < batchSize) return total;
    }
  }
}
