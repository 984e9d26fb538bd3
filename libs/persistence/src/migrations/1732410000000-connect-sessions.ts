import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connect sessions (authorization code + PKCE): one row per started authorization, found by the SHA-256 of its
 * state (the state itself is never stored), single use (`consumed_at`), short-lived (`expires_at`); the PKCE
 * verifier is sealed. Integrations gain the return URLs a session may redirect to and extra authorize
 * parameters (e.g. Auth0 `audience`).
 */
export class ConnectSessions1732410000000 implements MigrationInterface {
  name = 'ConnectSessions1732410000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connect_sessions (
        id uuid PRIMARY KEY,
        state_hash bytea NOT NULL,
        integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
        tenant_id text NOT NULL,
        connection_id uuid REFERENCES connections (id) ON DELETE CASCADE,
        end_user_id text,
        return_url text NOT NULL,
        redirect_uri text NOT NULL,
        scopes text[] NOT NULL DEFAULT '{}',
        code_verifier_sealed bytea NOT NULL,
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT connect_sessions_state_uq UNIQUE (state_hash)
      )`);
    await q.query(`CREATE INDEX connect_sessions_expires_idx ON connect_sessions (expires_at)`);
    await q.query(`CREATE INDEX connect_sessions_connection_idx ON connect_sessions (connection_id)`);
    await q.query(`ALTER TABLE integrations ADD COLUMN allowed_return_urls text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE integrations ADD COLUMN authorize_params jsonb NOT NULL DEFAULT '{}'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE integrations DROP COLUMN authorize_params`);
    await q.query(`ALTER TABLE integrations DROP COLUMN allowed_return_urls`);
    await q.query(`DROP TABLE connect_sessions`);
  }
}
