import type { MigrationInterface, QueryRunner } from 'typeorm';

const DUE = `reauth_due_at IS NOT NULL`;

/**
 * The dashboard's list of connections whose refresh token dies soon, soonest first, keyset-paginated on
 * (reauth_due_at, id): partial indexes over the flagged rows only, for every tenant, a tenant and an
 * integration. The first replaces the reauth-due migration's (reauth_due_at) index, which it covers. No
 * column of these indexes but reauth_due_at ever changes, so they cost the sweep's HOT updates nothing.
 */
export class ReauthDueList1796024237417 implements MigrationInterface {
  name = 'ReauthDueList1796024237417';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX connections_reauth_due_list_idx ON connections (reauth_due_at, id) WHERE ${DUE}`,
    );
    await q.query(`DROP INDEX connections_reauth_due_idx`);
    await q.query(
      `CREATE INDEX connections_reauth_due_tenant_idx ON connections (tenant_id, reauth_due_at, id)
         INCLUDE (integration_id) WHERE ${DUE}`,
    );
    await q.query(
      `CREATE INDEX connections_reauth_due_integration_idx ON connections (integration_id, reauth_due_at, id)
         WHERE ${DUE}`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX connections_reauth_due_integration_idx`);
    await q.query(`DROP INDEX connections_reauth_due_tenant_idx`);
    await q.query(`CREATE INDEX connections_reauth_due_idx ON connections (reauth_due_at) WHERE ${DUE}`);
    await q.query(`DROP INDEX connections_reauth_due_list_idx`);
  }
}
