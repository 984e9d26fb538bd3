import type { Database, Queryable } from '../database/database';

export type IntegrationEventType = 'created' | 'updated' | 'deleted';

/** One change to an integration: who (API key ID), what (never a secret), when. */
export interface IntegrationEvent {
  id: string;
  integrationId: string;
  integrationKey: string;
  type: IntegrationEventType;
  actorKeyId: string | null;
  changes: Record<string, unknown>;
  createdAt: Date;
}

export class IntegrationEventsRepository {
  constructor(private readonly db: Database) {}

  /** Written in the same transaction as the change it records (pass it as `tx`). */
  async append(event: Omit<IntegrationEvent, 'id' | 'createdAt'>, tx: Queryable = this.db): Promise<void> {
    await tx.execute(
      `INSERT INTO integration_events (integration_id, integration_key, type, actor_key_id, changes)
       VALUES ($1, $2, $3, $4, $5)`,
      [
        event.integrationId,
        event.integrationKey,
        event.type,
        event.actorKeyId,
        JSON.stringify(event.changes),
      ],
    );
  }

  /** Newest first, keyset-paginated by id, across every integration that had this key. */
  async list(integrationKey: string, beforeId: string | null, limit: number): Promise<IntegrationEvent[]> {
    const rows = await this.db.query(
      `SELECT id, integration_id, integration_key, type, actor_key_id, changes, created_at
       FROM integration_events
       WHERE integration_key = $1 AND ($2::bigint IS NULL OR id < $2)
       ORDER BY id DESC LIMIT $3`,
      [integrationKey, beforeId, limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      integrationId: r.integration_id as string,
      integrationKey: r.integration_key as string,
      type: r.type as IntegrationEventType,
      actorKeyId: r.actor_key_id as string | null,
      changes: r.changes as Record<string, unknown>,
      createdAt: r.created_at as Date,
    }));
  }
}
