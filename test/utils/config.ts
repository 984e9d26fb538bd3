import { randomBytes } from 'node:crypto';
import { generateApiKey, loadConfig, type VaultConfig } from '@vault/core';

/** A configuration for tests: own database and Redis prefix, a fresh local master key, quiet logs. */
export function testConfig(overrides: Record<string, string> = {}): VaultConfig {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    LOCAL_KMS_KEY: randomBytes(32).toString('base64'),
    BOOTSTRAP_API_KEY: generateApiKey(),
    HOST: '127.0.0.1',
    ...overrides,
  });
}
