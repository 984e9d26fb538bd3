/**
 * The words of the contract that the apps need from the lower libs (scopes, statuses, provider names, the
 * records the services answer with, the type of the guarded outbound fetch they inject), re-exported so that
 * apps depend on core only (the lint layer rule, eslint.layers.js).
 */
export {
  API_KEY_SCOPES,
  CONNECTION_STATUSES,
  type ApiKeyEntity,
  type ApiKeyScope,
  type AuditRecord,
  type BrokenConnection,
  type BrokenGroup,
  type ConnectionLastError,
  type ConnectionStatus,
  type ConnectionView,
  type IntegrationEntity,
  type IntegrationEvent,
  type ReauthDueConnection,
} from '@vault/persistence';
export {
  PROVIDER_NAMES,
  type ClientAuthMethod,
  type OutboundFetch,
  type ProviderName,
} from '@vault/providers';
