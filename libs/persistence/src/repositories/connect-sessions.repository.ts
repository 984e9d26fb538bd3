import type { Database, Row } from '../database/database';

export interface NewConnectSession {
  id: string;
  stateHash: Buffer;
  integrationId: string;
  tenantId: string;
  connectionId: string | null;
  endUserId: string | null;
  returnUrl: string;
  redirectUri: string;
  scopes: string[];
  codeVerifierSealed: Buffer;
  expiresAt: Date;
}

/** A session the callback has just consumed, with what the code exchange needs. */
export type ConsumedConnectSession = NewConnectSession;

export class ConnectSessionsRepository {
  constructor(private readonly db: Database) {}

  async insert(s: NewConnectSession): Promise<void> {
    await this.db.execute(
      `INSERT INTO connect_sessions (id, state_hash, integration_id, tenant_id, connection_id, end_user_id,
         return_url, redirect_uri, scopes, code_verifier_sealed, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        s.id,
        s.stateHash,
        s.integrationId,
        s.tenantId,
        s.connectionId,
        s.endUserId,
        s.returnUrl,
        s.redirectUri,
        s.scopes,
        s.codeVerifierSealed,
        s.expiresAt,
      ],
    );
  }

  /**
   * Single use: marks the session of this state consumed and answers it, or null when there is none that is
   * unused and unexpired (one statement, so two callbacks with one state cannot both win).
   */
  async consume(stateHash: Buffer): Promise<ConsumedConnectSession | null> {
    const [r] = await this.db.query(
      `UPDATE connect_sessions SET consumed_at = now()
       WHERE state_hash = $1 AND consumed_at IS NULL AND expires_at > now()
       RETURNING id, state_hash, integration_id, tenant_id, connection_id, end_user_id, return_url,
         redirect_uri, scopes, code_verifier_sealed, expires_at`,
      [stateHash],
    );
    return r ? toSession(r) : null;
  }

  /** Why a state was not consumed: unknown (null), used or expired. */
  async whyNotConsumable(stateHash: Buffer): Promise<'used' | 'expired' | null> {
    const [r] = await this.db.query(
      `SELECT consumed_at IS NOT NULL AS used FROM connect_sessions WHERE state_hash = $1`,
      [stateHash],
    );
    if (!r) return null;
    return r.used ? 'used' : 'expired';
  }

  /** Deletes sessions that expired before `before`; returns how many went. */
  pruneExpired(before: Date): Promise<number> {
    return this.db.execute(`DELETE FROM connect_sessions WHERE expires_at < $1`, [before]);
  }
}

function toSession(r: Row): ConsumedConnectSession {
  return {
    id: r.id as string,
    stateHash: r.state_hash as Buffer,
    integrationId: r.integration_id as string,
    tenantId: r.tenant_id as string,
    connectionId: r.connection_id as string | null,
    endUserId: r.end_user_id as string | null,
    returnUrl: r.return_url as string,
    redirectUri: r.redirect_uri as string,
    scopes: r.scopes as string[],
    codeVerifierSealed: r.code_verifier_sealed as Buffer,
    expiresAt: r.expires_at as Date,
  };
}
