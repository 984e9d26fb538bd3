export * from './types';
export { CATALOGUE, resolveEndpoints } from './catalogue';
export * from './authorize';
export { ProviderRegistry, createDefaultRegistry } from './registry';
export { StandardAdapter, type AdapterDeps, type ErrorFields } from './core/standard-adapter';
export { STANDARD_CODES, type CodeTable } from './core/standard-errors';
export { OAuth2Adapter } from './adapters/oauth2';
export { GoogleAdapter } from './adapters/google';
export { SlackAdapter } from './adapters/slack';
export { Auth0Adapter } from './adapters/auth0';
export { MicrosoftAdapter } from './adapters/microsoft';
export { GitHubAdapter } from './adapters/github';
export { HubSpotAdapter } from './adapters/hubspot';
export { ZoomAdapter } from './adapters/zoom';
export { classifyAddress, type AddressClass } from './outbound/address';
export {
  DEVELOPMENT_POLICY,
  explainRefusal,
  normaliseHost,
  parseAllowedHosts,
  parseTarget,
  checkTarget,
  checkAddress,
  type OutboundPolicy,
  type Refusal,
} from './outbound/policy';
export {
  createOutboundFetch,
  OutboundRefusedError,
  refusalOf,
  systemResolver,
  type OutboundFetch,
  type Resolver,
} from './outbound/outbound-fetch';
export { checkOutboundUrl } from './outbound/check-url';
export { MAX_ANSWER_BYTES, readCapped } from './core/transport';
