/** Every error code the API can answer with; the HTTP filter maps each one to a status (checked complete). */
export const ERROR_CODES = [
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'route_not_found',
  'method_not_allowed',
  'integration_exists',
  'connection_exists',
  'integration_in_use',
  'reauth_required',
  'connection_revoked',
  'connect_session_invalid',
  'connect_session_expired',
  'connect_session_used',
  'payload_too_large',
  'unsupported_media_type',
  'headers_too_large',
  'request_timeout',
  'provider_unavailable',
  'unavailable',
  'internal_error',
] as const;
export type VaultErrorCode = (typeof ERROR_CODES)[number];

/**
 * A domain error with a stable code. `details` go into the JSON answer as they are, so they must never
 * hold a secret.
 */
export class VaultError extends Error {
  constructor(
    readonly code: VaultErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'VaultError';
  }

  static notFound(what: string): VaultError {
    return new VaultError('not_found', `${what} not found`);
  }

  static validation(field: string, message: string): VaultError {
    return new VaultError('validation_failed', `${field}: ${message}`, { field });
  }
}
