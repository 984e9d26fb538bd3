/**
 * The words of the contract that the apps need from the lower libs (scopes, statuses, provider names and the
 * records the services answer with), re-exported so that apps depend on core only (the lint layer rule).
 */
export {
  API_KEY_SCOPES,
  CONNECTION_STATUSES,
  type ApiKeyEntity,
  type ApiKeyScope,
  type ConnectionStatus,
  type ConnectionView,
  type IntegrationEntity,
} from '@vault/persistence';
export { PROVIDER_NAMES, type ClientAuthMethod, type ProviderName } from '@vault/providers';
