import type { DataSource, EntityManager } from 'typeorm';
import { pgPool } from '../pg';
import { ConnectionEventEntity, type ConnectionEventType } from '../entities/connection-event.entity';

export class EventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async append(
    event: {
      connectionId: string;
      tenantId: string;
      type: ConnectionEventType;
      detail?: Record<string, unknown>;
    },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.getRepository(ConnectionEventEntity).insert({ ...event, detail: event.detail ?? {} });
  }

  /** Newest first, keyset-paginated by id. */
  async list(connectionId: string, beforeId: string | null, limit: number): Promise<ConnectionEventEntity[]> {
    const qb = this.dataSource
      .getRepository(ConnectionEventEntity)
      .createQueryBuilder('e')
      .where('e.connection_id = :connectionId', { connectionId })
      .orderBy('e.id', 'DESC')
      .limit(limit);
    if (beforeId !== null) qb.andWhere('e.id < :beforeId', { beforeId });
    return qb.getMany();
  }

  /** Failures over the last `seconds`, by event type and failure class. */
  async recentFailures(
    tenantId: string | null,
    seconds: number,
  ): Promise<{ type: string; failureClass: string; count: number }[]> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
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
        const n = (await pgPool(this.dataSource).query(sql, [before, batchSize])).rowCount ?? 0;
        total += n;
        if (n < batchSize) break;
      }
    }
    return total;
  }
}
