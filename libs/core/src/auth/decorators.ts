import { SetMetadata } from '@nestjs/common';
import type { ApiKeyScope } from '@vault/persistence';

export const PUBLIC_ROUTE = 'vault:public';
export const REQUIRED_SCOPE = 'vault:scope';

/** A route anyone may call (health, metrics, docs). Every other route must name a scope. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** The scope an API key needs for this route (`admin` implies every scope). */
export const RequireScope = (scope: ApiKeyScope): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_SCOPE, scope);
