/** The registry of adapters, one per provider name. */
import { Auth0Adapter } from './adapters/auth0';
import { GitHubAdapter } from './adapters/github';
import { GoogleAdapter } from './adapters/google';
import { HubSpotAdapter } from './adapters/hubspot';
import { MicrosoftAdapter } from './adapters/microsoft';
import { OAuth2Adapter } from './adapters/oauth2';
import { SlackAdapter } from './adapters/slack';
import { ZoomAdapter } from './adapters/zoom';
import { CATALOGUE } from './catalogue';
import { type AdapterDeps, StandardAdapter } from './core/standard-adapter';
import { createOutboundFetch } from './outbound/outbound-fetch';
import { DEVELOPMENT_POLICY } from './outbound/policy';
import { PROVIDER_NAMES, type ProviderAdapter, type ProviderName } from './types';

export class ProviderRegistry {
  private readonly adapters = new Map<ProviderName, ProviderAdapter>();

  constructor(adapters: ProviderAdapter[] = []) {
    for (const adapter of adapters) this.adapters.set(adapter.name, adapter);
  }

  get(name: ProviderName): ProviderAdapter {
    const adapter = this.adapters.get(name);
    if (!adapter) throw new Error(`no adapter registered for provider "${name}"`);
    return adapter;
  }

  has(name: string): name is ProviderName {
    return this.adapters.has(name as ProviderName);
  }

  list(): ProviderAdapter[] {
    return [...this.adapters.values()];
  }
}

/**
 * Every provider of PROVIDER_NAMES; catalogue-only providers get the standard adapter with their entry. All share
 * one guarded fetch (its connection pools) under one outbound policy (default: development's).
 */
export function createDefaultRegistry(deps: AdapterDeps = {}): ProviderRegistry {
  const policy = deps.policy ?? DEVELOPMENT_POLICY;
  const options: AdapterDeps = { policy, fetch: deps.fetch ?? createOutboundFetch(policy, deps.resolver) };
  const specific: ProviderAdapter[] = [
    new OAuth2Adapter(options),
    new GoogleAdapter(options),
    new SlackAdapter(options),
    new Auth0Adapter(options),
    new MicrosoftAdapter(options),
    new GitHubAdapter(options),
    new HubSpotAdapter(options),
    new ZoomAdapter(options),
  ];
  const covered = new Set(specific.map((a) => a.name));
  const generic = PROVIDER_NAMES.filter((name) => !covered.has(name)).map(
    (name) => new StandardAdapter(CATALOGUE[name], options),
  );
  return new ProviderRegistry([...specific, ...generic]);
}
