import type { TokenRow } from '@vault/persistence';

/** Whether the row holds an access token the read path may answer for a caller asking `minTtlSeconds`. */
export function isFresh(row: TokenRow, minTtlSeconds: number, now = Date.now()): boolean {
  return (
    (row.status === 'active' || row.status === 'refresh_failing') &&
    row.accessTokenSealed !== null &&
    row.accessTokenExpiresAt !== null &&
    row.accessTokenExpiresAt.getTime() - now >= minTtlSeconds * 1000
  );
}
