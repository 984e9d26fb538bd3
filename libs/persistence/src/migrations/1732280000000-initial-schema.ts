import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1732280000000 implements MigrationInterface {
  name = 'InitialSchema1732280000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE data_keys (
        id uuid PRIMARY KEY,
        kms_key_id text NOT NULL,
        wrapped_key bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX data_keys_active_idx ON data_keys (created_at DESC) WHERE retired_at IS NULL`,
    );

    await q.query(`
      CREATE TABLE integrations (
        id uuid PRIMARY KEY,
        key text NOT NULL,
        provider text NOT NULL,
        client_id text NOT NULL,
        client_secret_sealed bytea NOT NULL,
        token_url text,
        authorize_url text,
        revoke_url text,
        scopes text[] NOT NULL DEFAULT '{}',
        client_auth text NOT NULL CHECK (client_auth IN ('client_secret_post', 'client_secret_basic')),
        refresh_margin_seconds integer CHECK (refresh_margin_seconds >= 0),
        request_timeout_ms integer CHECK (request_timeout_ms > 0),
        status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'credentials_rejected')),
        status_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT integrations_key_uq UNIQUE (key)
      )`);

    await q.query(`
      CREATE TABLE connections (
        id uuid PRIMARY KEY,
        integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE RESTRICT,
        tenant_id text NOT NULL,
        external_id text,
        end_user_id text,
        status text NOT NULL CHECK (status IN ('active', 'refresh_failing', 'needs_reauth', 'revoked')),
        status_reason text,
        refresh_token_sealed bytea NOT NULL,
        access_token_sealed bytea,
        access_token_expires_at timestamptz,
        token_type text NOT NULL DEFAULT 'Bearer',
        scopes text[] NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}',
        version integer NOT NULL DEFAULT 1,
        next_refresh_at timestamptz,
        refresh_failures integer NOT NULL DEFAULT 0,
        last_refreshed_at timestamptz,
        last_error jsonb,
        refresh_token_expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX connections_identity_uq ON connections (integration_id, tenant_id, external_id) WHERE external_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX connections_status_idx ON connections (status, id)`);
    await q.query(`CREATE INDEX connections_integration_idx ON connections (integration_id, id)`);
    await q.query(`CREATE INDEX connections_tenant_idx ON connections (tenant_id, id)`);
    await q.query(
      `CREATE INDEX connections_due_idx ON connections (next_refresh_at) WHERE next_refresh_at IS NOT NULL AND status IN ('active', 'refresh_failing')`,
    );

    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        key_hash bytea NOT NULL,
        key_prefix text NOT NULL,
        scopes text[] NOT NULL,
        tenant_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CONSTRAINT api_keys_hash_uq UNIQUE (key_hash)
      )`);

    await q.query(`
      CREATE TABLE connection_events (
        id bigserial PRIMARY KEY,
        connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        tenant_id text NOT NULL,
        type text NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX connection_events_connection_idx ON connection_events (connection_id, id)`);
    await q.query(`CREATE INDEX connection_events_recent_idx ON connection_events (created_at, type)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE connection_events`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE connections`);
    await q.query(`DROP TABLE integrations`);
    await q.query(`DROP TABLE data_keys`);
  }
}
