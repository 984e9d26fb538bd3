import { CryptoError } from '@vault/crypto';
import { DatabaseUnavailable } from '@vault/persistence';
import { RedisUnavailable } from '../redis/redis.service';
import { VaultError } from './vault-error';

/** What a caller is told to wait (`retry_after`, `Retry-After`) while a dependency of the vault is down. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** 503 `unavailable`: a dependency is down; nothing was half-written, the caller may retry later. */
export function unavailable(what: string, retryAfterSeconds = UNAVAILABLE_RETRY_AFTER_SECONDS): VaultError {
  return new VaultError('unavailable', `${what} is unavailable; retry later`, {
    retry_after: retryAfterSeconds,
  });
}

/**
 * The answer for an error that means a dependency is down (PostgreSQL or the KMS unreachable…), or null when `err` is
 * not one. The HTTP layer uses it so that it needs to know neither persistence nor its errors.
 */
export function dependencyOutage(err: unknown): VaultError | null {
  if (err instanceof DatabaseUnavailable) return unavailable('the database');
  if (err instanceof CryptoError && err.code === 'kms_unavailable') return unavailable('the key service');
  if (err instanceof RedisUnavailable) return unavailable('Redis');
  return null;
}
