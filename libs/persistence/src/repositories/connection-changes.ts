/**
 * Where every committed write to a connection's token row is announced: the API's token cache (core) drops
 * its copy and tells the other instances. Persistence declares it and calls it; core implements it (as crypto
 * declares the `DataKeyStore` persistence implements).
 *
 * The rule, kept by `connection-writes.spec.ts`: a repository method whose SQL deletes connections, or
 * updates one of the token-row columns (`TOKEN_ROW_COLUMNS`), calls `this.changes.connectionsChanged` once
 * the write is committed (`Queryable.afterCommit`, so a write inside a caller's transaction is announced only
 * when it commits and never when it rolls back). Inserts need no announcement: the cache never holds a
 * connection that did not exist.
 */
export interface ConnectionChangeSink {
  /** `ids` were written (committed); `'all'` for a write whose rows are not known one by one. */
  connectionsChanged(ids: readonly string[] | 'all'): void;
}

/** Injection token of the `ConnectionChangeSink` (provided by core). */
export const CONNECTION_CHANGES = Symbol('CONNECTION_CHANGES');
