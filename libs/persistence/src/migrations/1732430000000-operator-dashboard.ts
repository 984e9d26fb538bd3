import type { MigrationInterface, QueryRunner } from 'typeorm';

const BROKEN = `status IN ('refresh_failing', 'needs_reauth')`;

/**
 * The operator dashboard: when each broken connection first failed (`failing_since`, kept by a trigger on
 * status changes, so every writer of `status` keeps it right without knowing of it), and partial indexes
 * that list and count broken connections without reading the healthy ones.
 */
export class OperatorDashboard1732430000000 implements MigrationInterface {
  name = 'OperatorDashboard1732430000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ADD COLUMN failing_since timestamptz`);
    // Connections already broken: their last change is the best estimate there is.
    await q.query(`UPDATE connections SET failing_since = updated_at WHERE ${BROKEN}`);
    await q.query(`
      CREATE FUNCTION connections_failing_since() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status IN ('refresh_failing', 'needs_reauth') THEN
          -- Entering a broken status from a healthy one (or a new row): now, unless the writer gave a time.
          -- Moving between the two broken statuses keeps the first failure.
          IF TG_OP = 'INSERT' OR OLD.status NOT IN ('refresh_failing', 'needs_reauth') THEN
            NEW.failing_since := coalesce(NEW.failing_since, now());
          END IF;
        ELSE
          NEW.failing_since := NULL;
        END IF;
        RETURN NEW;
      END $$`);
    // Fires only when the status really changes (a successful refresh rewriting 'active' costs nothing).
    await q.query(`
      CREATE TRIGGER connections_failing_since_update BEFORE UPDATE OF status ON connections
      FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION connections_failing_since()`);
    // New rows: only broken ones (or healthy ones given a failing_since, which it clears) call the function,
    // so imports and COPY of healthy rows cost nothing.
    await q.query(`
      CREATE TRIGGER connections_failing_since_insert BEFORE INSERT ON connections
      FOR EACH ROW WHEN (NEW.status IN ('refresh_failing', 'needs_reauth') OR NEW.failing_since IS NOT NULL)
      EXECUTE FUNCTION connections_failing_since()`);
    await q.query(
      `CREATE INDEX connections_broken_idx ON connections (failing_since DESC, id DESC) WHERE ${BROKEN}`,
    );
    // The columns the counts by integration, status and reason read ride along, so those counts are
    // index-only scans of the broken rows.
    const covering = `INCLUDE (integration_id, status, status_reason)`;
    await q.query(
      `CREATE INDEX connections_broken_tenant_idx ON connections (tenant_id, failing_since DESC, id DESC) ${covering} WHERE ${BROKEN}`,
    );
    await q.query(
      `CREATE INDEX connections_broken_integration_idx ON connections (integration_id, failing_since DESC, id DESC) INCLUDE (status, status_reason) WHERE ${BROKEN}`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX connections_broken_integration_idx`);
    await q.query(`DROP INDEX connections_broken_tenant_idx`);
    await q.query(`DROP INDEX connections_broken_idx`);
    await q.query(`DROP TRIGGER connections_failing_since_insert ON connections`);
    await q.query(`DROP TRIGGER connections_failing_since_update ON connections`);
    await q.query(`DROP FUNCTION connections_failing_since()`);
    await q.query(`ALTER TABLE connections DROP COLUMN failing_since`);
  }
}
