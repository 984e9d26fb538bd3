import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditTrail, type AuditAction } from '@vault/core';
import { type Observable, tap } from 'rxjs';
import type { AuthedRequest } from './auth.guard';

const AUDITED = 'vault:audited';

type Params = Record<string, string | undefined>;
/** What the action acted on, from the route's parameters or the handler's answer. */
type Subject = (
  params: Params,
  result: { id?: string; key?: string } | undefined,
) => {
  connectionId?: string;
  target?: string;
};

/**
 * A management route: each successful call writes one audit row (the caller's key, the action, its subject).
 * The interceptor is attached to these routes only, so other routes (the token read) never pass through it.
 */
export const Audited = (action: AuditAction, subject: Subject): MethodDecorator =>
  applyDecorators(SetMetadata(AUDITED, { action, subject }), UseInterceptors(AuditInterceptor));

/** Records the management actions marked @Audited() once the handler succeeded (a refused call is not one). */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuditTrail) private readonly trail: AuditTrail,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<{ action: AuditAction; subject: Subject } | undefined>(
      AUDITED,
      context.getHandler(),
    );
    if (!spec) return next.handle();
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    return next.handle().pipe(
      tap((result) => {
        const on = spec.subject((request.params ?? {}) as Params, result as { id?: string } | undefined);
        this.trail.action(spec.action, request.principal?.keyId ?? null, on);
      }),
    );
  }
}
