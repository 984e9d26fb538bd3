import type { Database } from '../database/database';

/**
 * The sweep's claim ($1 horizon, $2 lease end, $3 limit, $4 due at or after, null for no lower bound): exported
 * so a test can EXPLAIN the very statement. The partial index connections_due_idx finds the due rows at any
 * table size, and the claimed versions are written through their ctid (a TID scan, one page each) rather than
 * looked up again by primary key. `$4` lets a sweep's next round start where its last one ended instead of
 * walking again over every row it has just leased (they stay in the index until refreshed).
 */
export const CLAIM_DUE_SQL = `UPDATE connections SET refresh_claimed_until = $2
   WHERE ctid = ANY(ARRAY(
     SELECT ctid FROM connections
     WHERE next_refresh_at IS NOT NULL AND next_refresh_at <= $1
       AND next_refresh_at >= coalesce($4::timestamptz, '-infinity')
       AND status IN ('active', 'refresh_failing')
       AND (refresh_claimed_until IS NULL OR refresh_claimed_until < now())
     ORDER BY next_refresh_at LIMIT $3
     FOR UPDATE SKIP LOCKED))
   RETURNING id, next_refresh_at, access_token_expires_at`;

/**
 * When connections are refreshed: the sweep's claim of due connections (a lease, so any number of sweepers
 * share the work and a lost job is claimed again), its early release, and putting a refresh off.
 */
export class RefreshScheduleRepository {
  constructor(private readonly db: Database) {}

  /**
   * Claims connections due before `horizon` (and at or after `from`, when given) that no other sweeper holds,
   * the earliest first, in one statement with SKIP LOCKED, and leases them until `leaseUntil`. A lost job
   * (Redis flushed, worker killed) is claimed again once its lease has passed: PostgreSQL stays the source of
   * truth for what is due. A row that another transaction changed while it was being claimed is left for a
   * later sweep (it is not returned).
   */
  async claimDue(
    horizon: Date,
    leaseUntil: Date,
    limit: number,
    from: Date | null = null,
  ): Promise<{ id: string; dueAt: Date; expiresAt: Date | null }[]> {
    const rows = await this.db.prepared('vault_refresh_claim', CLAIM_DUE_SQL, [
      horizon,
      leaseUntil,
      limit,
      from,
    ]);
    return rows.map((r) => ({
      id: r.id as string,
      dueAt: r.next_refresh_at as Date,
      expiresAt: r.access_token_expires_at as Date | null,
    }));
  }

  /** Gives up a claim early (the job could not be enqueued). */
  async releaseClaim(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.execute(`UPDATE connections SET refresh_claimed_until = NULL WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
  }

  /** Puts a connection's next scheduled refresh off (no attempt was made), releasing its claim. */
  async reschedule(id: string, version: number, nextRefreshAt: Date): Promise<void> {
    await this.db.prepared(
      'vault_refresh_reschedule',
      `UPDATE connections SET next_refresh_at = $3, refresh_claimed_until = NULL WHERE id = $1 AND version = $2`,
      [id, version, nextRefreshAt],
    );
  }
}
