import { generateApiKey } from '../api-keys/key-format';
import { ConfigError, loadConfig, outboundPolicy } from './vault-config';

describe('loadConfig', () => {
  it('gives local defaults that run on one machine', () => {
    const c = loadConfig({});
    expect(c.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/vault');
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.PORT).toBe(3000);
    expect(c.WORKER_PORT).toBe(3001);
    expect(c.KMS_DRIVER).toBe('local');
    expect(c.REFRESH_MARGIN_SECONDS).toBe(300);
  });

  it('names the bad variable and never prints its value', () => {
    const secretish = 'not-a-port-SECRETVALUE';
    let err: unknown;
    try {
      loadConfig({ PORT: secretish, LOCAL_KMS_KEY: 'c2hvcnQ=' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.variables.sort()).toEqual(['LOCAL_KMS_KEY', 'PORT']);
    expect(ce.message).toContain('PORT');
    expect(ce.message).not.toContain('SECRETVALUE');
    expect(ce.message).not.toContain('c2hvcnQ=');
  });

  it('refuses the local KMS in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/KMS_DRIVER/);
  });

  it('migrates on start by default outside production only, and lets MIGRATE_ON_START say otherwise', () => {
    const prod = { NODE_ENV: 'production', KMS_DRIVER: 'aws', KMS_KEY_ID: 'alias/vault' };
    expect(loadConfig({}).MIGRATE_ON_START).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).MIGRATE_ON_START).toBe(true);
    expect(loadConfig(prod).MIGRATE_ON_START).toBe(false);
    expect(loadConfig({ ...prod, MIGRATE_ON_START: 'true' }).MIGRATE_ON_START).toBe(true);
    expect(loadConfig({ MIGRATE_ON_START: 'false' }).MIGRATE_ON_START).toBe(false);
    expect(loadConfig({ MIGRATE_ON_START: '0' }).MIGRATE_ON_START).toBe(false);
    expect(() => loadConfig({ MIGRATE_ON_START: 'yes-please' })).toThrow(/MIGRATE_ON_START/);
  });

  it('needs a key id for the aws KMS', () => {
    expect(() => loadConfig({ KMS_DRIVER: 'aws' })).toThrow(/KMS_KEY_ID/);
    expect(loadConfig({ KMS_DRIVER: 'aws', KMS_KEY_ID: 'alias/vault' }).KMS_KEY_ID).toBe('alias/vault');
  });

  it('needs a webhook secret when a webhook URL is set', () => {
    expect(() => loadConfig({ WEBHOOK_URL: 'https://example.test/hook' })).toThrow(/WEBHOOK_SECRET/);
  });

  it('accepts only a generated vk_ key as BOOTSTRAP_API_KEY, naming the variable and never the value', () => {
    const key = generateApiKey();
    expect(loadConfig({ BOOTSTRAP_API_KEY: key }).BOOTSTRAP_API_KEY).toBe(key);
    for (const bad of [
      'change-me-bootstrap-admin-key-0001',
      `vk_${'a'.repeat(49)}`,
      key.slice(0, -1) + (key.endsWith('x') ? 'y' : 'x'),
    ]) {
      let err: unknown;
      try {
        loadConfig({ BOOTSTRAP_API_KEY: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variables).toEqual(['BOOTSTRAP_API_KEY']);
      expect((err as ConfigError).message).toContain('generate-api-key');
      expect((err as ConfigError).message).not.toContain(bad);
    }
  });

  describe('outbound URL rules at load', () => {
    const SECRET = { WEBHOOK_SECRET: 'whsec_0123456789abcdef' };
    const PROD = { NODE_ENV: 'production', KMS_DRIVER: 'aws', KMS_KEY_ID: 'alias/vault', ...SECRET };
    const refused = (env: Record<string, string>): ConfigError => {
      try {
        loadConfig(env);
      } catch (e) {
        if (e instanceof ConfigError) return e;
        throw e;
      }
      throw new Error('expected the configuration to be refused');
    };

    it('refuses a WEBHOOK_URL at a link-local or metadata address, naming the variable', () => {
      for (const url of [
        'http://169.254.169.254/hook',
        'http://[fe80::1]/hook',
        'http://2852039166/hook',
        'https://[::ffff:169.254.169.254]/hook',
        'https://metadata.google.internal/hook',
      ]) {
        const err = refused({ WEBHOOK_URL: url, ...SECRET });
        expect(err.variables).toEqual(['WEBHOOK_URL']);
        expect(err.message).toMatch(/WEBHOOK_URL: .*forbidden address/);
        expect(err.message).not.toContain(url);
      }
    });

    it('allows a loopback http WEBHOOK_URL in development, not a private one', () => {
      expect(loadConfig({ WEBHOOK_URL: 'http://127.0.0.1:9000/hook', ...SECRET }).WEBHOOK_URL).toBeDefined();
      expect(loadConfig({ WEBHOOK_URL: 'http://localhost:9000/hook', ...SECRET }).WEBHOOK_URL).toBeDefined();
      expect(refused({ WEBHOOK_URL: 'http://10.0.0.1/hook', ...SECRET }).variables).toEqual(['WEBHOOK_URL']);
    });

    it('in production wants https and no loopback or private host unless listed', () => {
      expect(refused({ ...PROD, WEBHOOK_URL: 'http://hooks.example.com/x' }).message).toMatch(/https/);
      expect(refused({ ...PROD, WEBHOOK_URL: 'https://127.0.0.1/x' }).message).toMatch(
        /ALLOWED_PRIVATE_HOSTS/,
      );
      expect(refused({ ...PROD, WEBHOOK_URL: 'https://localhost/x' }).variables).toEqual(['WEBHOOK_URL']);
      const ok = loadConfig({
        ...PROD,
        WEBHOOK_URL: 'https://localhost/x',
        ALLOWED_PRIVATE_HOSTS: 'localhost',
      });
      expect(ok.ALLOWED_PRIVATE_HOSTS).toEqual(['localhost']);
      expect(outboundPolicy(ok)).toEqual({ production: true, allowedPrivateHosts: ['localhost'] });
      expect(loadConfig({ ...PROD, WEBHOOK_URL: 'https://hooks.example.com/x' }).WEBHOOK_URL).toBeDefined();
    });

    it('parses ALLOWED_PRIVATE_HOSTS and refuses entries that are not bare hosts, without echoing them', () => {
      expect(
        loadConfig({ ALLOWED_PRIVATE_HOSTS: ' IdP.Internal. , 10.0.0.5 ' }).ALLOWED_PRIVATE_HOSTS,
      ).toEqual(['idp.internal', '10.0.0.5']);
      expect(loadConfig({}).ALLOWED_PRIVATE_HOSTS).toEqual([]);
      const err = refused({ ALLOWED_PRIVATE_HOSTS: 'ok.internal,https://secret-host.internal:8443/x' });
      expect(err.variables).toEqual(['ALLOWED_PRIVATE_HOSTS']);
      expect(err.message).not.toContain('secret-host');
    });
  });
});
