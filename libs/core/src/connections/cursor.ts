import { VaultError } from '../errors/vault-error';

export interface ListCursor {
  /** ISO 8601 with microseconds, as PostgreSQL stores it. */
  createdAt: string;
  id: string;
}

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id]), 'utf8').toString('base64url');
}

/** Opaque keyset cursor; anything that does not decode is a 400 naming `cursor`. */
export function decodeCursor(raw: string): ListCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2) {
      const [at, id] = parsed as unknown[];
      if (typeof at === 'string' && ISO_MICROS.test(at) && typeof id === 'string' && UUID.test(id)) {
        return { createdAt: at, id };
      }
    }
  } catch {
    // fall through
  }
  throw VaultError.validation('cursor', 'is not a cursor this API returned');
}

/** A cursor that is a bigserial id (newest-first lists of events and audit rows); null for the first page. */
export function decodeIdCursor(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if (!/^[1-9][0-9]{0,18}$/.test(raw))
    throw VaultError.validation('cursor', 'is not a cursor this API returned');
  return raw;
}

/** A page of a list read with `limit + 1` rows: the first `limit`, and the next page's cursor if there is one. */
export function pageOf<T>(
  rows: T[],
  limit: number,
  cursorOf: (last: T) => string,
): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}

/** The keyset cursor of a row listed in (created_at, id) order. */
export function keysetCursorOf(row: { cursorAt: string; id: string }): string {
  return encodeCursor({ createdAt: row.cursorAt, id: row.id });
}
