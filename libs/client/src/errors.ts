/**
 * Typed errors of the vault API. Messages come from the vault's own answer (which never holds a secret) plus
 * the method and path; the API key and access tokens are never put in an error.
 */
export class VaultApiError extends Error {
  constructor(
    message: string,
    /** The API's error code (`not_found`, `reauth_required`, ...), or `connection_failed`/`invalid_response`. */
    readonly code: string,
    /** HTTP status; 0 when no answer arrived. */
    readonly status: number,
    /** Other fields of the error answer (`field`, `errorId`, `required_scope`, ...). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 409 `reauth_required`: the end user must consent again; `reason` is the provider's (e.g. `invalid_grant`). */
export class ReauthRequiredError extends VaultApiError {
  readonly reason: string;
  constructor(message: string, code: string, status: number, details: Record<string, unknown>) {
    super(message, code, status, details);
    this.reason = typeof details.reason === 'string' ? details.reason : 'unknown';
  }
}

/**
 * 409 `connection_revoked`: the connection was revoked (`POST /v1/connections/:id/revoke`) and holds no token;
 * only a re-consent (a connect session with its `connection_id`) brings it back.
 */
export class ConnectionRevokedError extends VaultApiError {}

/** 404: no such connection (or one of another tenant), or no such route. */
export class NotFoundError extends VaultApiError {}

/** 400 `validation_failed`; `field` names the bad input when the API says. */
export class ValidationError extends VaultApiError {
  readonly field: string | null;
  constructor(message: string, code: string, status: number, details: Record<string, unknown>) {
    super(message, code, status, details);
    this.field = typeof details.field === 'string' ? details.field : null;
  }
}

/** 401: the API key is missing, unknown or revoked. */
export class UnauthorizedError extends VaultApiError {}

/** 403: the API key lacks the scope (`requiredScope`). */
export class ForbiddenError extends VaultApiError {
  readonly requiredScope: string | null;
  constructor(message: string, code: string, status: number, details: Record<string, unknown>) {
    super(message, code, status, details);
    this.requiredScope = typeof details.required_scope === 'string' ? details.required_scope : null;
  }
}

/**
 * 503: no valid token can be had now (`provider_unavailable`) or the vault cannot reach its database
 * (`unavailable`). Thrown once the retry deadline leaves no room for another try; `retryAfter` is in seconds.
 */
export class UnavailableError extends VaultApiError {
  readonly retryAfter: number | null;
  constructor(
    message: string,
    code: string,
    status: number,
    details: Record<string, unknown>,
    retryAfter: number | null,
  ) {
    super(message, code, status, details);
    this.retryAfter = retryAfter;
  }
}

/** The vault could not be reached, or did not answer within the request timeout. */
export class VaultConnectionError extends VaultApiError {}

type ErrorClass = new (
  message: string,
  code: string,
  status: number,
  details: Record<string, unknown>,
) => VaultApiError;

const BY_STATUS: Record<number, ErrorClass> = {
  400: ValidationError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
};

/**
 * Builds the typed error for an error answer (`body` is the parsed JSON, or undefined when it was not JSON).
 * `redact` scrubs what the answer echoes (a proxy repeating the Authorization header, say).
 */
export function errorFromAnswer(
  what: string,
  status: number,
  body: unknown,
  retryAfter: number | null,
  redact: (text: string) => string = (t) => t,
): VaultApiError {
  const fields = isRecord(body) ? body : {};
  const code = typeof fields.error === 'string' ? redact(fields.error).slice(0, 100) : `http_${status}`;
  const said = typeof fields.message === 'string' ? redact(fields.message).slice(0, 500) : `HTTP ${status}`;
  const { error: _e, message: _m, ...rest } = fields;
  const details = Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [k, typeof v === 'string' ? redact(v) : v]),
  );
  const message = `${what}: ${said}`;
  if (status === 503) return new UnavailableError(message, code, status, details, retryAfter);
  if (status === 409 && code === 'reauth_required')
    return new ReauthRequiredError(message, code, status, details);
  if (status === 409 && code === 'connection_revoked')
    return new ConnectionRevokedError(message, code, status, details);
  const Class = BY_STATUS[status] ?? VaultApiError;
  return new Class(message, code, status, details);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
