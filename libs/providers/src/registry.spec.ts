import { CATALOGUE, resolveEndpoints } from './catalogue';
import { createDefaultRegistry, ProviderRegistry } from './registry';
import { PROVIDER_NAMES } from './types';

describe('createDefaultRegistry', () => {
  const registry = createDefaultRegistry();

  it('registers every provider with its own catalogue entry', () => {
    expect(
      registry
        .list()
        .map((a) => a.name)
        .sort(),
    ).toEqual([...PROVIDER_NAMES].sort());
    for (const name of PROVIDER_NAMES) {
      expect(registry.get(name).catalogue).toBe(CATALOGUE[name]);
      expect(CATALOGUE[name].provider).toBe(name);
    }
  });

  it('has() is a type guard over registered names only', () => {
    expect(registry.has('slack')).toBe(true);
    expect(registry.has('myspace')).toBe(false);
    expect(registry.has('constructor')).toBe(false);
  });

  it('get() throws for a provider that is not registered', () => {
    expect(() => new ProviderRegistry([]).get('google')).toThrow(/google/);
  });
});

describe('catalogue', () => {
  it('is consistent: rotation families vs grace, https URLs', () => {
    for (const entry of Object.values(CATALOGUE)) {
      if (entry.rotation === 'none' || entry.rotation === 'rotating_old_valid')
        expect(entry.graceSeconds).toBeNull();
      if (entry.rotation === 'rotating') expect(entry.graceSeconds).toBe(0);
      if (entry.rotation === 'rotating_with_grace') expect(entry.graceSeconds).toBeGreaterThan(0);
      for (const url of [entry.tokenUrl, entry.authorizeUrl, entry.revokeUrl]) {
        if (url !== null) expect(new URL(url).protocol).toBe('https:');
      }
    }
    expect(CATALOGUE.xero.graceSeconds).toBe(1800);
    expect(CATALOGUE.slack.clientAuth).toBe('client_secret_basic');
  });
});

describe('resolveEndpoints', () => {
  it('uses the catalogue unless overridden; null/undefined mean "not overridden"', () => {
    expect(resolveEndpoints(CATALOGUE.google, {})).toEqual({
      tokenUrl: 'https://oauth2.googleapis.com/token',
      authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      revokeUrl: 'https://oauth2.googleapis.com/revoke',
    });
    expect(
      resolveEndpoints(CATALOGUE.google, { tokenUrl: 'http://127.0.0.1:9/token', revokeUrl: null }),
    ).toMatchObject({
      tokenUrl: 'http://127.0.0.1:9/token',
      revokeUrl: 'https://oauth2.googleapis.com/revoke',
    });
  });

  it('throws when there is no token URL (tenant-specific providers) or a URL is invalid', () => {
    expect(() => resolveEndpoints(CATALOGUE.auth0, {})).toThrow(/token URL/);
    expect(() => resolveEndpoints(CATALOGUE.oauth2, { tokenUrl: 'not a url' })).toThrow(/valid URL/);
    expect(
      resolveEndpoints(CATALOGUE.auth0, { tokenUrl: 'https://t.eu.auth0.com/oauth/token' }).tokenUrl,
    ).toBe('https://t.eu.auth0.com/oauth/token');
  });
});
