/**
 * Errors persistence throws instead of the driver's: code above persistence reacts to these classes and never
 * to a PostgreSQL error code, a driver message or a driver type.
 */

/** A unique constraint refused the write; `constraint` names it (e.g. `integrations_key_uq`). */
export class UniqueViolation extends Error {
  override readonly name = 'UniqueViolation';
  constructor(
    readonly constraint: string | null,
    readonly table: string | null,
  ) {
    // The driver's detail ("Key (...)=(...) already exists") echoes the values: it is not kept.
    super(`unique constraint ${constraint ?? '(unknown)'} violated`);
  }
}

/** A foreign key refused the write or the delete (the row referred to is gone, or still referred to). */
export class ForeignKeyViolation extends Error {
  override readonly name = 'ForeignKeyViolation';
  constructor(
    readonly constraint: string | null,
    readonly table: string | null,
  ) {
    super(`foreign key ${constraint ?? '(unknown)'} violated`);
  }
}

/**
 * PostgreSQL cannot be reached or is going away: connection refused, reset or terminated, no connection
 * within the connect timeout, shutting down or starting up. Retrying later may succeed; what the failed
 * statement (or transaction) wrote was not committed, except when the connection broke during COMMIT itself.
 */
export class DatabaseUnavailable extends Error {
  override readonly name = 'DatabaseUnavailable';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`database unavailable: ${reason}`, options);
  }
}

/** Socket-level failures of the connection to PostgreSQL. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that mean "not now" rather than "not this statement": class 08 (connection exception),
 * admin/crash shutdown, cannot connect now (starting up or in recovery), too many connections.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Errors pg and pg-pool raise with a message and no code when the connection is gone or never came. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout expired',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/**
 * The driver's error as one of ours where it is one of the cases above; otherwise unchanged. Errors are read
 * by shape, not by `instanceof Error`: socket errors come from Node's own realm (another `Error` under jest).
 */
export function translateError(err: unknown): unknown {
  if (
    err instanceof UniqueViolation ||
    err instanceof ForeignKeyViolation ||
    err instanceof DatabaseUnavailable ||
    typeof err !== 'object' ||
    err === null
  )
    return err;
  const { code, constraint, table, message } = err as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  if (code === '23505') return new UniqueViolation(str(constraint), str(table));
  if (code === '23503') return new ForeignKeyViolation(str(constraint), str(table));
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code)) {
      return new DatabaseUnavailable(code, { cause: err });
    }
    return err;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.startsWith(m))) {
    return new DatabaseUnavailable(message, { cause: err });
  }
  return err;
}
