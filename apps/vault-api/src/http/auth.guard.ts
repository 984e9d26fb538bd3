import { type CanActivate, type ExecutionContext, Injectable, Inject } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ApiKeysService,
  PUBLIC_ROUTE,
  REQUIRED_SCOPE,
  VaultError,
  hasScope,
  type ApiKeyScope,
  type Principal,
} from '@vault/core';
import type { FastifyRequest } from 'fastify';

export type AuthedRequest = FastifyRequest & { principal?: Principal };

/**
 * Global guard: fail closed. A route is reachable only if it is marked @Public() or names a scope with
 * @RequireScope(); a route with neither answers 500 rather than being open by accident (a test walks every
 * route to keep that from ever happening).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const scope = this.reflector.getAllAndOverride<ApiKeyScope | undefined>(REQUIRED_SCOPE, targets);
    if (!scope)
      throw new Error(`route ${context.getClass().name}.${context.getHandler().name} declares no scope`);

    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) throw new VaultError('unauthorized', 'send an API key as Authorization: Bearer <key>');
    const principal = await this.apiKeys.authenticate(match[1]);
    if (!principal) throw new VaultError('unauthorized', 'the API key is not valid');
    if (!hasScope(principal, scope)) {
      throw new VaultError('forbidden', `this API key lacks the scope ${scope}`, { required_scope: scope });
    }
    request.principal = principal;
    return true;
  }
}
