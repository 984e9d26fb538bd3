import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Access control: the history of changes to integrations (who changed which URL, client ID or secret, and
 * when), and a mark on API keys stored before keys carried the `vk_` checksum.
 */
export class AccessControl1732330000000 implements MigrationInterface {
  name = 'AccessControl1732330000000';

  public async up(q: QueryRunner): Promise<void> {
    // No foreign key: the record of an integration's deletion outlives the integration, and the history is
    // read by key across every integration that ever had it (a delete and re-create cannot hide a change).
    await q.query(`
      CREATE TABLE integration_events (
        id bigserial PRIMARY KEY,
        integration_id uuid NOT NULL,
        integration_key text NOT NULL,
        type text NOT NULL CHECK (type IN ('created', 'updated', 'deleted')),
        actor_key_id uuid,
        changes jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX integration_events_key_idx ON integration_events (integration_key, id)`);
    // Existing rows (and rows an earlier version still writes during a rolling upgrade) are legacy keys;
    // this version writes false explicitly.
    await q.query(`ALTER TABLE api_keys ADD COLUMN legacy_format boolean NOT NULL DEFAULT true`);
    await q.query(`CREATE INDEX api_keys_created_idx ON api_keys (created_at, id)`);
    await q.query(`CREATE INDEX integrations_created_idx ON integrations (created_at, id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX integrations_created_idx`);
    await q.query(`DROP INDEX api_keys_created_idx`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN legacy_format`);
    await q.query(`DROP TABLE integration_events`);
  }
}
