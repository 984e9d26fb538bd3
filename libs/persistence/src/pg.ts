import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The pg pool under TypeORM's data source. The hot paths (token read, refresh) run their few fixed
 * statements on it directly as named prepared statements: TypeORM's query runner per call costs more CPU than
 * these primary-key statements themselves. Everything else goes through TypeORM.
 */
export function pgPool(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

export async function prepared<R extends QueryResultRow>(
  pool: Pool,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  return (await pool.query<R>({ name, text, values })).rows;
}
