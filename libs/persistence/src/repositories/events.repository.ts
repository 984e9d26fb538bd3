import type { Database, Queryable, Row } from '../database/database';
import type { ConnectionEventEntity, ConnectionEventType } from '../entities/connection-event.entity';

export class EventsRepository {
  constructor(private readonly db: Database) {}

  /** Appends an event; `tx` puts it in the caller's transaction. */
  async append(
    event: {
      connectionId: string;
      tenantId: string;
      type: ConnectionEventType;
      detail?: Record<string, unknown>;
    },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.execute(
      `INSERT INTO connection_events (connection_id, tenant_id, type, detail) VALUES ($1, $2, $3, $4)`,
      [event.connectionId, event.tenantId, event.type, event.detail ?? {}],
    );
  }

  /** Newest first, keyset-paginated by id. */
  async list(connectionId: string, beforeId: string | null, limit: number): Promise<ConnectionEventEntity[]> {
    const rows = await this.db.query(
      `SELECT id, connection_id, tenant_id, type, detail, created_at FROM connection_events
       WHERE connection_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [connectionId, beforeId, limit],
    );
    return rows.map(toEvent);
  }

  /** Failures over the last `seconds`, by event type and failure class. */
  async recentFailures(
    tenantId: string | null,
    seconds: number,
  ): Promise<{ type: string; failureClass: string; count: number }[]> {
    const rows = await this.db.query(
      `SELECT type, coalesce(detail->>'class', '') AS failure_class, count(*)::int AS count
       FROM connection_events
       WHERE created_at > now() - make_interval(secs => $1) AND type IN ('refresh_failed', 'needs_reauth')
         AND ($2::text IS NULL OR tenant_id = $2)
       GROUP BY 1, 2`,
      [seconds, tenantId],
    );
    return rows.map((r) => ({
      type: r.type as string,
      failureClass: r.failure_class as string,
      count: r.count as number,
    }));
  }

  /**
   * Retention: deletes routine history older than `before` in bounded batches: `refreshed` events and
   * finished refresh attempts. Failures, re-consent flags and the rest of a connection's story are kept.
   * Returns how many rows went.
   */
  async prune(before: Date, batchSize = 5000): Promise<number> {
    let total = 0;
    for (const sql of [
      `DELETE FROM connection_events WHERE id IN (
         SELECT id FROM connection_events WHERE type = 'refreshed' AND created_at < $1 LIMIT $2)`,
      `DELETE FROM refresh_attempts WHERE id IN (
         SELECT id FROM refresh_attempts WHERE finished_at IS NOT NULL AND started_at < $1 LIMIT $2)`,
    ]) {
      for (;;) {
        const n = await this.db.execute(sql, [before, batchSize]);
        total += n;
        if (n < batchSize) break;
      }
    }
    return total;
  }
}

function toEvent(r: Row): ConnectionEventEntity {
  return {
    id: r.id as string,
    connectionId: r.connection_id as string,
    tenantId: r.tenant_id as string,
    type: r.type as ConnectionEventType,
    detail: r.detail as object,
    createdAt: r.created_at as Date,
  };
}
