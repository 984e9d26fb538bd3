import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A million connections: counts kept as they change instead of `count(*)` over the table, and indexes for the
 * list's order.
 *
 * `connection_counts` holds signed deltas by tenant × integration × status, appended by triggers (plain
 * inserts: no row is shared between writers, so no lock waits and no deadlock on the write paths) and folded
 * into one row per group by `ConnectionsRepository.compactCounts()` (the worker's gauge refresh). A count is
 * the sum of its group's rows. Inserts and deletes use statement triggers with transition tables (COPY and
 * batch writes add one row per group); status, tenant or integration changes a row trigger that fires only
 * when one of them really changes (a refresh that keeps the status costs nothing).
 */
export class ConnectionCounts1732420000000 implements MigrationInterface {
  name = 'ConnectionCounts1732420000000';

  public async up(q: QueryRunner): Promise<void> {
    // Writers wait while the counts are built, so that none is missed between the backfill and the triggers.
    await q.query(`LOCK TABLE connections IN SHARE MODE`);
    await q.query(`
      CREATE TABLE connection_counts (
        id bigserial PRIMARY KEY,
        tenant_id text NOT NULL,
        integration_id uuid NOT NULL,
        status text NOT NULL,
        n bigint NOT NULL
      )`);
    await q.query(`CREATE INDEX connection_counts_tenant_idx ON connection_counts (tenant_id)`);
    await q.query(`
      CREATE FUNCTION connection_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO connection_counts (tenant_id, integration_id, status, n)
        SELECT tenant_id, integration_id, status, count(*) FROM new_rows GROUP BY 1, 2, 3;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION connection_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO connection_counts (tenant_id, integration_id, status, n)
        SELECT tenant_id, integration_id, status, -count(*) FROM old_rows GROUP BY 1, 2, 3;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION connection_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO connection_counts (tenant_id, integration_id, status, n)
        VALUES (OLD.tenant_id, OLD.integration_id, OLD.status, -1), (NEW.tenant_id, NEW.integration_id, NEW.status, 1);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER connection_counts_insert AFTER INSERT ON connections
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_inserted()`);
    await q.query(`
      CREATE TRIGGER connection_counts_delete AFTER DELETE ON connections
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_deleted()`);
    await q.query(`
      CREATE TRIGGER connection_counts_update AFTER UPDATE OF status, tenant_id, integration_id ON connections
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
                           OR OLD.integration_id IS DISTINCT FROM NEW.integration_id)
        EXECUTE FUNCTION connection_counts_moved()`);
    await q.query(`
      INSERT INTO connection_counts (tenant_id, integration_id, status, n)
      SELECT tenant_id, integration_id, status, count(*) FROM connections GROUP BY 1, 2, 3`);

    // GET /v1/connections pages in (created_at, id) order: without these, each page sorts the whole table.
    await q.query(`CREATE INDEX connections_created_idx ON connections (created_at, id)`);
    await q.query(`DROP INDEX connections_tenant_idx`);
    await q.query(`CREATE INDEX connections_tenant_idx ON connections (tenant_id, created_at, id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX connections_tenant_idx`);
    await q.query(`CREATE INDEX connections_tenant_idx ON connections (tenant_id, id)`);
    await q.query(`DROP INDEX connections_created_idx`);
    await q.query(`DROP TRIGGER connection_counts_update ON connections`);
    await q.query(`DROP TRIGGER connection_counts_delete ON connections`);
    await q.query(`DROP TRIGGER connection_counts_insert ON connections`);
    await q.query(`DROP FUNCTION connection_counts_moved()`);
    await q.query(`DROP FUNCTION connection_counts_deleted()`);
    await q.query(`DROP FUNCTION connection_counts_inserted()`);
    await q.query(`DROP TABLE connection_counts`);
  }
}
