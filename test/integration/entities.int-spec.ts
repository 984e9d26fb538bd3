import { dataSourceOptions } from '@vault/persistence';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../utils/database';
import { query } from '../utils/refresh-fixtures';

interface ColumnShape {
  column: string;
  type: string;
  nullable: boolean;
}

/**
 * The entities describe the schema the migrations build; nothing checks that at runtime (the repositories
 * write SQL), so this test does: every table has an entity and every column matches by name, type and
 * nullability. A migration that adds a table or a column fails here until its entity says the same.
 */
describe('entities and the migrated schema', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(dataSourceOptions(db.url, 1)).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('has an entity for every table, and the same columns (name, type, nullability)', async () => {
    const schema = await query<{ table: string; column: string; type: string; nullable: boolean }>(
      db.url,
      `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
              NOT a.attnotnull AS nullable
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
         AND c.relname <> 'schema_migrations'`,
    );
    const tables = (rows: { table: string; column: string; type: string; nullable: boolean }[]) => {
      const byTable: Record<string, ColumnShape[]> = {};
      for (const { table, ...col } of rows) (byTable[table] ??= []).push(col);
      for (const cols of Object.values(byTable)) cols.sort((a, b) => a.column.localeCompare(b.column));
      return byTable;
    };

    const fromEntities = ds.entityMetadatas.flatMap((m) =>
      m.columns.map((c) => ({
        table: m.tableName,
        column: c.databaseName,
        type: ds.driver.normalizeType(c) + (c.isArray ? '[]' : ''),
        nullable: c.isNullable,
      })),
    );

    expect(tables(fromEntities)).toEqual(tables(schema));
  });
});
