import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { VaultConfig } from '../config/vault-config';
import { generateApiKey, isWellFormedApiKey } from './key-format';

/**
 * The admin key to ensure at start: BOOTSTRAP_API_KEY when set. In development without it (a newcomer's
 * `npm start`), a key is generated once into a git-ignored file (BOOTSTRAP_API_KEY_FILE, `.local/...`) that
 * later starts reuse, with a warning saying where it is, as for the local KMS key. Elsewhere: none.
 */
export function bootstrapKey(config: VaultConfig, warn: (message: string) => void): string | undefined {
  if (config.BOOTSTRAP_API_KEY) return config.BOOTSTRAP_API_KEY;
  if (config.NODE_ENV !== 'development') return undefined;
  const file = resolve(config.BOOTSTRAP_API_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (!isWellFormedApiKey(key)) {
      throw new Error(`${config.BOOTSTRAP_API_KEY_FILE} does not hold a key made by generate-api-key`);
    }
    warn(
      `BOOTSTRAP_API_KEY is not set: using the development admin API key in ${config.BOOTSTRAP_API_KEY_FILE}`,
    );
    return key;
  }
  const key = generateApiKey();
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, key + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    // Another local process wrote it first: use that one.
    if ((err as { code?: string }).code === 'EEXIST') return bootstrapKey(config, warn);
    // A read-only directory (e.g. a container): start without a bootstrap key rather than not at all.
    warn(
      `BOOTSTRAP_API_KEY is not set and ${config.BOOTSTRAP_API_KEY_FILE} cannot be written ` +
        `(${(err as { code?: string }).code ?? 'error'}): no admin key was created; use npm run cli -- create-api-key`,
    );
    return undefined;
  }
  warn(
    `BOOTSTRAP_API_KEY is not set: GENERATED a development admin API key into ${config.BOOTSTRAP_API_KEY_FILE} ` +
      '(send it as Authorization: Bearer <key>). Outside development, set BOOTSTRAP_API_KEY ' +
      '(npm run cli -- generate-api-key).',
  );
  return key;
}
