import type { Database } from '../database/database';
import type { RefreshTrigger } from '../entities/refresh-attempt.entity';

export interface NewRefreshAttempt {
  id: string;
  connectionId: string;
  trigger: RefreshTrigger;
  connectionVersion: number;
  refreshTokenFingerprint: string;
}

export interface OpenAttempt {
  id: string;
  startedAt: Date;
  refreshTokenFingerprint: string;
  connectionVersion: number;
}

const START_SQL = `
  INSERT INTO refresh_attempts (id, connection_id, trigger, connection_version, refresh_token_fingerprint)
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[])`;

/**
 * The refresh journal: an attempt is recorded (durably) before the provider is called and finished after the
 * outcome is written, so an attempt left open means its process died in between (see recovery).
 */
export class RefreshAttemptsRepository {
  constructor(private readonly db: Database) {}

  /** Journals the start of one or many attempts, in one statement. */
  async start(attempts: NewRefreshAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    await this.db.prepared('vault_refresh_start', START_SQL, [
      attempts.map((a) => a.id),
      attempts.map((a) => a.connectionId),
      attempts.map((a) => a.trigger),
      attempts.map((a) => a.connectionVersion),
      attempts.map((a) => a.refreshTokenFingerprint),
    ]);
  }

  /** Closes an attempt that is still open with its outcome (a finished one is left as it is). */
  async finish(id: string, outcome: string): Promise<void> {
    await this.db.prepared(
      'vault_refresh_finish',
      `UPDATE refresh_attempts SET finished_at = now(), outcome = $2 WHERE id = $1 AND finished_at IS NULL`,
      [id, outcome],
    );
  }

  /** Attempts of this connection that never finished (their process died after calling the provider). */
  async open(connectionId: string): Promise<OpenAttempt[]> {
    const rows = await this.db.prepared(
      'vault_refresh_open_attempts',
      `SELECT id, started_at, refresh_token_fingerprint, connection_version FROM refresh_attempts
       WHERE connection_id = $1 AND finished_at IS NULL ORDER BY started_at`,
      [connectionId],
    );
    return rows.map((r) => ({
      id: r.id as string,
      startedAt: r.started_at as Date,
      refreshTokenFingerprint: r.refresh_token_fingerprint as string,
      connectionVersion: r.connection_version as number,
    }));
  }
}
