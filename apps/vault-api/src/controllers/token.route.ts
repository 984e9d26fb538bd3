import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ApiKeysService,
  AuditTrail,
  MetricsService,
  TokenService,
  VaultError,
  hasScope,
  type AccessToken,
  type ApiKeyScope,
  type Principal,
} from '@vault/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateBearer, bearerKey } from '../http/bearer';
import { errorAnswer, sendErrorAnswer } from '../http/error-answer';
import { UuidPipe } from '../http/uuid.pipe';

const MIN_TTL = /^\d{1,5}$/;
const MAX_MIN_TTL = 86400;
const DEFAULT_MIN_TTL = 60;

interface TokenParams {
  id: string;
  minTtl: number;
}

/**
 * The route's parameters: the connection ID (a UUID as UuidPipe accepts it, lower-cased as the database writes
 * it) and `min_ttl` (an integer of seconds, 0..86400, default 60); or the 400 naming the first bad one.
 */
export function readTokenParams(request: FastifyRequest): TokenParams | VaultError {
  const { id } = request.params as { id?: unknown };
  if (!UuidPipe.isUuid(id)) return VaultError.validation('id', 'must be a UUID');
  const { min_ttl: value } = request.query as { min_ttl?: unknown };
  if (value === undefined || value === '') return { id: id.toLowerCase(), minTtl: DEFAULT_MIN_TTL };
  const minTtl = typeof value === 'string' && MIN_TTL.test(value) ? Number(value) : NaN;
  if (!(minTtl <= MAX_MIN_TTL)) {
    return VaultError.validation('min_ttl', `must be an integer number of seconds from 0 to ${MAX_MIN_TTL}`);
  }
  return { id: id.toLowerCase(), minTtl };
}

/**
 * The hot path, `GET /v1/connections/:id/token`: a valid access token by connection ID.
 *
 * Served by Fastify directly rather than through a Nest controller: Nest's per-request pipeline (router proxy,
 * guard and pipe consumers, the middleware engine's path matching) cost about a quarter of the server's CPU
 * per cached read (docs/decisions.md, "The token route outside Nest's pipeline"). What that pipeline gives
 * the other routes is done here by the same code: the bearer check of the global guard (authenticateBearer),
 * the checks of the UUID and min_ttl pipes, and the error filter's answers (errorAnswer). Its OpenAPI entry
 * is TOKEN_ROUTE_OPENAPI below.
 */
@Injectable()
export class TokenRoute {
  static readonly path = '/v1/connections/:id/token';
  static readonly scope: ApiKeyScope = 'tokens:read';

  private readonly logger = new Logger('Errors');
  private readonly successes: { inc(): void };

  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(AuditTrail) private readonly audit: AuditTrail,
  ) {
    this.successes = metrics.tokenRequests.labels({ outcome: 'success' });
  }

  register(fastify: FastifyInstance): void {
    // The 200's schema also compiles its serializer (fast-json-stringify), cheaper than JSON.stringify.
    fastify.get(TokenRoute.path, { schema: { response: { 200: TOKEN_ANSWER } } }, (request, reply) =>
      this.handle(request, reply),
    );
  }

  /**
   * A key verified lately and a cached row answer synchronously (no promise, no I/O): the common case of a
   * busy caller. Anything else (an unknown key, a bad parameter, a row not in memory or not valid for
   * `min_ttl`, an error) goes the full way, which decides as if the first look had not happened; a key
   * verified lately is not verified again on the way.
   */
  private handle(request: FastifyRequest, reply: FastifyReply): Promise<void> | undefined {
    const started = performance.now();
    const key = bearerKey(request.headers.authorization);
    const known = key === null ? undefined : this.apiKeys.cachedPrincipal(key);
    const caller = known && hasScope(known, TokenRoute.scope) ? known : undefined;
    const params = readTokenParams(request);
    if (caller && !(params instanceof VaultError)) {
      const token = this.tokens.cachedToken(caller, params.id, params.minTtl);
      if (token) {
        this.answer(reply, caller, token, started);
        return undefined;
      }
    }
    return this.handleFully(request, reply, started, caller, params);
  }

  private async handleFully(
    request: FastifyRequest,
    reply: FastifyReply,
    started: number,
    verified: Principal | undefined,
    params: TokenParams | VaultError,
  ): Promise<void> {
    let caller: Principal;
    try {
      // As the guard does for the other routes: refused keys are not token reads, so they are not metered.
      caller =
        verified ?? (await authenticateBearer(this.apiKeys, request.headers.authorization, TokenRoute.scope));
    } catch (err) {
      return sendErrorAnswer(reply, errorAnswer(err, this.logger));
    }
    try {
      if (params instanceof VaultError) throw params;
      this.answer(reply, caller, await this.tokens.getToken(caller, params.id, params.minTtl), started);
    } catch (err) {
      this.metrics.tokenRequests.inc({ outcome: err instanceof VaultError ? err.code : 'internal_error' });
      this.metrics.tokenRequestDuration.observe((performance.now() - started) / 1000);
      sendErrorAnswer(reply, errorAnswer(err, this.logger));
    }
  }

  private answer(reply: FastifyReply, caller: Principal, t: AccessToken, started: number): void {
    this.successes.inc();
    // Aggregated in memory, written in batches: no I/O here.
    this.audit.tokenRead(caller.keyId, t.connectionId);
    void reply.header('cache-control', 'no-store').send({
      connection_id: t.connectionId,
      access_token: t.accessToken,
      token_type: t.tokenType,
      expires_at: t.expiresAt.toISOString(),
      scopes: t.scopes,
    });
    this.metrics.tokenRequestDuration.observe((performance.now() - started) / 1000);
  }
}

/** What a 200 answers. */
const TOKEN_ANSWER = {
  type: 'object' as const,
  required: ['connection_id', 'access_token', 'token_type', 'expires_at', 'scopes'],
  properties: {
    connection_id: { type: 'string' as const, format: 'uuid' },
    access_token: { type: 'string' as const },
    token_type: { type: 'string' as const },
    expires_at: { type: 'string' as const, format: 'date-time' },
    scopes: { type: 'array' as const, items: { type: 'string' as const } },
  },
};

const error = (description: string) => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object' as const,
        required: ['error', 'message'],
        properties: { error: { type: 'string' as const }, message: { type: 'string' as const } },
      },
    },
  },
});

/** The route's OpenAPI entry (it is not a Nest controller, so Swagger does not see it). */
export const TOKEN_ROUTE_OPENAPI: OpenAPIObject['paths'] = {
  '/v1/connections/{id}/token': {
    get: {
      operationId: 'TokenController_token',
      summary: 'A valid access token by connection ID',
      parameters: [
        { name: 'id', required: true, in: 'path', schema: { type: 'string', format: 'uuid' } },
        {
          name: 'min_ttl',
          required: false,
          in: 'query',
          schema: { type: 'integer', minimum: 0, maximum: MAX_MIN_TTL, default: DEFAULT_MIN_TTL },
          description: 'The token must stay valid at least this many seconds.',
        },
      ],
      responses: {
        '200': {
          description: 'An access token valid for at least min_ttl seconds.',
          content: {
            'application/json': {
              schema: TOKEN_ANSWER,
            },
          },
        },
        '400': error('validation_failed: id or min_ttl is not valid'),
        '401': error('unauthorized: no API key or not a valid one'),
        '403': error('forbidden: the key lacks tokens:read'),
        '404': error("not_found: no such connection (or not the key's tenant)"),
        '409': error('reauth_required or connection_revoked: the end user must consent again'),
        '503': error('provider_unavailable or unavailable: retry after Retry-After seconds'),
      },
      security: [{ bearer: [] }],
      tags: ['tokens'],
    },
  },
};
