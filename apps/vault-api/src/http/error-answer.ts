import { HttpException } from '@nestjs/common';
import { VaultError, dependencyOutage, type VaultErrorCode } from '@vault/core';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/** Every code's HTTP status; the compiler checks this record is complete. */
export const STATUS_OF: Record<VaultErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  integration_exists: 409,
  connection_exists: 409,
  integration_in_use: 409,
  reauth_required: 409,
  connection_revoked: 409,
  connect_session_invalid: 400,
  connect_session_expired: 400,
  connect_session_used: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  request_timeout: 408,
  provider_unavailable: 503,
  unavailable: 503,
  internal_error: 500,
};

/** Fastify's own errors that are the caller's fault, by their code. */
const FASTIFY_ERRORS: Record<string, VaultErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
};

function fastifyError(exception: unknown): { code: string; statusCode: number } | null {
  for (const e of [exception, (exception as { cause?: unknown } | null)?.cause]) {
    const { code, statusCode } = (e ?? {}) as { code?: unknown; statusCode?: unknown };
    if (typeof code === 'string' && code.startsWith('FST_')) {
      return { code, statusCode: typeof statusCode === 'number' ? statusCode : 500 };
    }
  }
  return null;
}

/** A Fastify error not listed above, by its status: the caller's fault only when it is a 4xx. */
function byStatus(status: number): VaultErrorCode | undefined {
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  return status >= 400 && status < 500 ? 'validation_failed' : undefined;
}

export interface ErrorAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Where an unexpected error or a dependency outage is logged (Nest's Logger fits). */
export interface ErrorLogger {
  warn(message: unknown, context?: string): void;
  error(message: unknown, context?: string): void;
}

/**
 * Maps every error to `{ error, message, ... }` and its status. Unknown errors become 500 with an `errorId`
 * that is also logged, and nothing of the error's own text reaches the caller.
 */
export function errorAnswer(exception: unknown, logger: ErrorLogger): ErrorAnswer {
  const outage = dependencyOutage(exception);
  if (outage) {
    logger.warn({ err: exception }, outage.message);
    exception = outage;
  }
  if (exception instanceof VaultError) {
    return {
      status: STATUS_OF[exception.code],
      body: { ...exception.details, error: exception.code, message: exception.message },
    };
  }
  // Fastify's own errors arrive as they are or wrapped by Nest in an HttpException (as its cause).
  const fastify = fastifyError(exception);
  if (fastify) {
    const code = FASTIFY_ERRORS[fastify.code] ?? byStatus(fastify.statusCode);
    if (code) {
      const message =
        code === 'payload_too_large'
          ? 'the request body is larger than the limit'
          : code === 'unsupported_media_type'
            ? 'send the body as application/json'
            : fastify.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH'
              ? 'body: does not match Content-Length'
              : 'body: is not valid JSON';
      return {
        status: STATUS_OF[code],
        body: { error: code, message, ...(code === 'validation_failed' ? { field: 'body' } : {}) },
      };
    }
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) return { status, body: { error: 'route_not_found', message: 'no such route' } };
    if (status === 405)
      return { status, body: { error: 'method_not_allowed', message: 'method not allowed' } };
    if (status === 413)
      return {
        status,
        body: { error: 'payload_too_large', message: 'the request body is larger than the limit' },
      };
    if (status >= 400 && status < 500) {
      return { status: 400, body: { error: 'validation_failed', message: 'the request is not valid' } };
    }
  }
  const errorId = randomUUID();
  logger.error({ errorId, err: exception }, 'unhandled error');
  return {
    status: 500,
    body: {
      error: 'internal_error',
      message: 'an internal error occurred; quote the errorId when reporting it',
      errorId,
    },
  };
}

/** Sends an answer of errorAnswer(): `Retry-After` on a 503 that names one, never cached. */
export function sendErrorAnswer(reply: FastifyReply, { status, body }: ErrorAnswer): void {
  if (status === 503 && typeof body.retry_after === 'number')
    void reply.header('retry-after', String(body.retry_after));
  void reply.status(status).header('cache-control', 'no-store').send(body);
}
