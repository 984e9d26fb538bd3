import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Client as PgClient, Pool, type ClientConfig, type PoolClient } from 'pg';
import { translateError } from './errors';

/** A row as the driver answers it: column name → value (snake_case, PostgreSQL types mapped by pg). */
export type Row = Record<string, unknown>;

/**
 * What a repository needs to run SQL, on the pool or inside a transaction. Every failure is thrown as one of
 * persistence's errors (`UniqueViolation`, `ForeignKeyViolation`, `DatabaseUnavailable`) or, for a bug in a
 * statement, as the driver's error.
 */
export interface Queryable {
  /** Rows of one parameterised statement. */
  query<R = Row>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** The number of rows an INSERT/UPDATE/DELETE touched. */
  execute(text: string, values?: readonly unknown[]): Promise<number>;
  /**
   * A fixed statement as a named prepared statement: parsed and planned once per connection, then one round
   * trip per call. `name` must always go with the same `text`.
   */
  prepared<R = Row>(name: string, text: string, values: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `fn` once what was written through this Queryable is committed: at once on the pool (each statement
   * commits by itself), after COMMIT in a transaction, never if the transaction rolls back. For announcements
   * that must not run ahead of the data (`ConnectionChangeSink`).
   */
  afterCommit(fn: () => void): void;
}

export interface DatabaseOptions {
  url: string;
  /** Connections in the pool (DATABASE_POOL_SIZE). */
  poolSize?: number;
  /**
   * How long opening a connection may take before DatabaseUnavailable: an unreachable database fails fast.
   * Waiting for a free connection of a busy pool is not bounded by it (a burst queues, as it always did).
   */
  connectTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

type Client = Pick<PoolClient, 'query'>;

async function run<R>(client: Client, config: { text: string; values?: readonly unknown[]; name?: string }) {
  try {
    const res = await client.query({ ...config, values: config.values as unknown[] | undefined });
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  } catch (err) {
    throw translateError(err);
  }
}

class Runner implements Queryable {
  constructor(private readonly client: Client) {}

  async query<R = Row>(text: string, values?: readonly unknown[]): Promise<R[]> {
    return (await run<R>(this.client, { text, values })).rows;
  }

  async execute(text: string, values?: readonly unknown[]): Promise<number> {
    return (await run(this.client, { text, values })).rowCount;
  }

  async prepared<R = Row>(name: string, text: string, values: readonly unknown[]): Promise<R[]> {
    return (await run<R>(this.client, { name, text, values })).rows;
  }

  afterCommit(fn: () => void): void {
    fn();
  }
}

/** The Queryable of one transaction: `afterCommit` callbacks wait for its COMMIT. */
class TransactionRunner extends Runner {
  readonly committed: (() => void)[] = [];

  override afterCommit(fn: () => void): void {
    this.committed.push(fn);
  }
}

/**
 * The one way to PostgreSQL at runtime: persistence's own pg pool. Statements run on the pool (one round trip
 * each, no per-call wrapper objects: the token hot path is a single prepared primary-key read);
 * `transaction()` runs several on one connection between BEGIN and COMMIT. TypeORM is used only to run the
 * migrations and to describe the schema (entities).
 */
export class Database extends Runner implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private closed = false;

  constructor(private readonly pool: Pool) {
    super(pool);
    // An idle connection that breaks (PostgreSQL restarted, network cut) is reported here and dropped from the
    // pool; without a listener the pool's 'error' event would end the process.
    pool.on('error', (err) => {
      this.logger.warn({ err: translateError(err) }, 'idle database connection lost');
    });
  }

  static connect(options: DatabaseOptions): Database {
    const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    // pg-pool applies its connectionTimeoutMillis both to opening a connection and to queueing for a free one;
    // only the first is wanted, so the timeout is given to the connections the pool opens.
    class TimedClient extends PgClient {
      constructor(config?: ClientConfig) {
        super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
      }
    }
    return new Database(
      new Pool({
        connectionString: options.url,
        max: options.poolSize ?? 10,
        application_name: options.applicationName ?? 'credential-vault',
        keepAlive: true,
        Client: TimedClient,
      }),
    );
  }

  /**
   * Runs `fn` in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws (and the
   * error is rethrown). The connection goes back to the pool in every case, or is discarded when it broke.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translateError(err);
    }
    // A connection that breaks while checked out (backend terminated, network cut) emits 'error' on the client,
    // which only the pool listens to while it is idle: without this listener the process would end. It is
    // then discarded instead of going back to the pool.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    const tx = new TransactionRunner(client);
    let result: T;
    try {
      await run(client, { text: 'BEGIN' });
      result = await fn(tx);
      await run(client, { text: 'COMMIT' });
    } catch (err) {
      if (!broken) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error('ROLLBACK failed');
        }
      }
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
    // Outside the try: the transaction is committed whatever a callback does.
    for (const committed of tx.committed) committed();
    return result;
  }

  /** Throws DatabaseUnavailable unless PostgreSQL answers a trivial query. */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
