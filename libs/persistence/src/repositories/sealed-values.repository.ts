import type { Database } from '../database/database';
import type { ConnectionChangeSink } from './connection-changes';

/** Every sealed column of the schema, by name. Each has a generated `<…>_key_id` column (the key it is under). */
export type SealedField =
  | 'connection.refresh_token'
  | 'connection.access_token'
  | 'integration.client_secret'
  | 'integration.previous_client_secret'
  | 'connect_session.code_verifier';

const FIELDS: Record<SealedField, { table: string; column: string; keyColumn: string }> = {
  'connection.refresh_token': {
    table: 'connections',
    column: 'refresh_token_sealed',
    keyColumn: 'refresh_token_key_id',
  },
  'connection.access_token': {
    table: 'connections',
    column: 'access_token_sealed',
    keyColumn: 'access_token_key_id',
  },
  'integration.client_secret': {
    table: 'integrations',
    column: 'client_secret_sealed',
    keyColumn: 'client_secret_key_id',
  },
  'integration.previous_client_secret': {
    table: 'integrations',
    column: 'previous_client_secret_sealed',
    keyColumn: 'previous_client_secret_key_id',
  },
  'connect_session.code_verifier': {
    table: 'connect_sessions',
    column: 'code_verifier_sealed',
    keyColumn: 'code_verifier_key_id',
  },
};

export const SEALED_FIELDS = Object.keys(FIELDS) as readonly SealedField[];

/** `table.column` of every sealed column (a schema test checks no sealed column is missing here). */
export const SEALED_COLUMNS: readonly string[] = SEALED_FIELDS.map(
  (f) => `${FIELDS[f].table}.${FIELDS[f].column}`,
);

export interface SealedValue {
  /** The row's ID (connection or integration). */
  id: string;
  sealed: Buffer;
}

/**
 * Sealed values by the data key they are under, across every sealed column: what a data key's retirement
 * re-seals. Rows are found through the generated key-ID columns and their indexes.
 */
export class SealedValuesRepository {
  constructor(
    private readonly db: Database,
    private readonly changes: ConnectionChangeSink,
  ) {}

  /** Up to `limit` values of `field` under `dataKeyId`, in ID order after `afterId`. */
  async listUnder(
    field: SealedField,
    dataKeyId: string,
    afterId: string | null,
    limit: number,
  ): Promise<SealedValue[]> {
    const f = FIELDS[field];
    const rows = await this.db.query<{ id: string; sealed: Buffer }>(
      `SELECT id, ${f.column} AS sealed FROM ${f.table}
       WHERE ${f.keyColumn} = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3`,
      [dataKeyId, afterId, limit],
    );
    return rows;
  }

  /**
   * Replaces each value by its re-sealed form, only where the row still holds exactly the value that was read
   * (compare-and-set on the sealed bytes): a value written meanwhile (a refresh's new token) is kept as it is.
   * Nothing else of the row changes (not its version: a refresh in flight still writes). Returns how many
   * were replaced.
   */
  async replace(field: SealedField, values: { id: string; old: Buffer; sealed: Buffer }[]): Promise<number> {
    if (values.length === 0) return 0;
    const f = FIELDS[field];
    const replaced = await this.db.execute(
      `UPDATE ${f.table} t SET ${f.column} = u.sealed
       FROM unnest($1::uuid[], $2::bytea[], $3::bytea[]) AS u(id, old, sealed)
       WHERE t.id = u.id AND t.${f.column} = u.old`,
      [values.map((v) => v.id), values.map((v) => v.old), values.map((v) => v.sealed)],
    );
    // A connection's re-sealed access token replaces the copy API token caches hold (connection-changes.ts).
    if (replaced > 0 && f.table === 'connections') this.changes.connectionsChanged(values.map((v) => v.id));
    return replaced;
  }

  /** How many sealed values are under `dataKeyId`, across every sealed column. */
  async countUnder(dataKeyId: string): Promise<number> {
    const counts = SEALED_FIELDS.map(
      (field) => `(SELECT count(*) FROM ${FIELDS[field].table} WHERE ${FIELDS[field].keyColumn} = $1)`,
    );
    const [r] = await this.db.query<{ n: number }>(`SELECT (${counts.join(' + ')})::int AS n`, [dataKeyId]);
    return r?.n ?? 0;
  }

  /** Sealed values per data key ID, across every sealed column. */
  async countByKey(): Promise<Map<string, number>> {
    const parts = SEALED_FIELDS.map(
      (field) =>
        `SELECT ${FIELDS[field].keyColumn} AS k FROM ${FIELDS[field].table} WHERE ${FIELDS[field].keyColumn} IS NOT NULL`,
    );
    const rows = await this.db.query<{ k: string; n: number }>(
      `SELECT k, count(*)::int AS n FROM (${parts.join(' UNION ALL ')}) s GROUP BY k`,
    );
    return new Map(rows.map((r) => [r.k, r.n]));
  }
}
