import { generateApiKey } from '../api-keys/key-format';
import { ConfigError, loadConfig } from './vault-config';

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
});
