import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@vault/core';
import type { AuthedRequest } from './auth.guard';

/** The caller authenticated by the guard. */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw new Error('Caller used on a route without authentication');
  return principal;
});
