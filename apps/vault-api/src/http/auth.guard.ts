import { type CanActivate, type ExecutionContext, Injectable, Inject } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeysService, PUBLIC_ROUTE, REQUIRED_SCOPE, type ApiKeyScope, type Principal } from '@vault/core';
import type { FastifyRequest } from 'fastify';
import { authenticateBearer } from './bearer';

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
    const principal = await authenticateBearer(this.apiKeys, request.headers.authorization, scope);
    request.principal = principal;
    return true;
  }
}
