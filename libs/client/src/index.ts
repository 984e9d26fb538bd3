export { VaultClient, type GetTokenOptions, type RequestOptions, type VaultClientOptions } from './client';
export {
  ConnectionRevokedError,
  ForbiddenError,
  NotFoundError,
  ReauthRequiredError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
  VaultApiError,
  VaultConnectionError,
} from './errors';
export type * from './types';
export type { components, operations, paths } from './generated/openapi';
