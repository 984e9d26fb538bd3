import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AwsKms, LocalKms, type CryptoMetrics, type KmsDriver } from '@vault/crypto';
import type { VaultConfig } from '../config/vault-config';

export interface Warn {
  (message: string): void;
}

/**
 * The KMS driver named by configuration. For `local` without `LOCAL_KMS_KEY` (development only; refused in
 * production by config validation), a master key is generated once into a git-ignored file that every local
 * process then shares, with a loud warning.
 */
export function createKmsDriver(config: VaultConfig, metrics: CryptoMetrics, warn: Warn): KmsDriver {
  if (config.KMS_DRIVER === 'aws') {
    return new AwsKms({
      keyId: config.KMS_KEY_ID ?? '',
      region: config.AWS_REGION,
      endpoint: config.KMS_ENDPOINT,
      metrics,
    });
  }
  // Each master key gets its own ID (derived from it), so older keys listed in LOCAL_KMS_PREVIOUS_KEYS still
  // open the data keys they wrapped until `vault rewrap-data-keys` moves them to the current one.
  const previousKeys = (config.LOCAL_KMS_PREVIOUS_KEYS ?? '')
    .split(',')
    .filter(Boolean)
    .map((b64) => {
      const masterKey = Buffer.from(b64, 'base64');
      return { keyId: LocalKms.deriveKeyId(masterKey), masterKey };
    });
  return new LocalKms({ masterKey: localMasterKey(config, warn), previousKeys, metrics });
}

function localMasterKey(config: VaultConfig, warn: Warn): Buffer {
  if (config.LOCAL_KMS_KEY) return Buffer.from(config.LOCAL_KMS_KEY, 'base64');
  const file = resolve(config.LOCAL_KMS_KEY_FILE);
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${config.LOCAL_KMS_KEY_FILE} does not hold a 32-byte base64 key`);
    warn(`LOCAL_KMS_KEY is not set: using the development master key in ${config.LOCAL_KMS_KEY_FILE}`);
    return key;
  }
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(file, key.toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (err) {
    // Another local process wrote it first: use that one.
    if ((err as { code?: string }).code === 'EEXIST') return localMasterKey(config, warn);
    throw err;
  }
  warn(
    `LOCAL_KMS_KEY is not set: GENERATED a development master key into ${config.LOCAL_KMS_KEY_FILE}. ` +
      'Losing that file loses every secret sealed with it. Never use the local KMS in production.',
  );
  return key;
}
