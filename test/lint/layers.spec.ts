import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

/**
 * The layer rule of eslint.layers.js, run through ESLint's Node API on source text placed (virtually) in the
 * tree: it fails on each forbidden import and lets the allowed ones through.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const layerRule = require('../../eslint.layers.js') as object;

const ROOT = join(__dirname, '..', '..');

const eslint = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, layerRule],
});

async function layerErrors(file: string, importFrom: string): Promise<string[]> {
  const code = `import * as dep from '${importFrom}';\nexport const used = dep;\n`;
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  const fatal = result?.messages.filter((m) => m.fatal) ?? [];
  if (fatal.length > 0) throw new Error(fatal.map((m) => m.message).join('; '));
  return (result?.messages ?? []).filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.message);
}

describe('lint: the layer rule', () => {
  it.each([
    ['apps/vault-api/src/x.ts', '@vault/persistence', /only through @vault\/core/],
    ['apps/vault-api/src/x.ts', '@vault/crypto', /only through @vault\/core/],
    ['apps/vault-worker/src/x.ts', '@vault/providers', /only through @vault\/core/],
    [
      'apps/vault-api/src/http/x.ts',
      '../../../../libs/persistence/src/repositories/events.repository',
      /only through/,
    ],
    ['libs/core/src/x.ts', '../../../apps/vault-api/src/create-app', /a lib never imports an app/],
    ['libs/providers/src/x.ts', '../../../apps/vault-worker/src/scheduler', /a lib never imports an app/],
    ['libs/persistence/src/x.ts', '@vault/core', /never import core/],
    ['libs/crypto/src/x.ts', '../../core/src/config/vault-config', /never import core/],
    ['libs/providers/src/x.ts', '@vault/core', /never import core/],
  ])('%s importing %s fails', async (file, from, message) => {
    const errors = await layerErrors(file, from);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it.each([
    ['apps/vault-api/src/x.ts', '@vault/core'],
    ['apps/vault-worker/src/x.ts', '@nestjs/common'],
    ['libs/core/src/x.ts', '@vault/persistence'],
    ['libs/core/src/x.ts', '@vault/providers'],
    ['libs/persistence/src/x.ts', '@vault/crypto'],
  ])('%s importing %s passes', async (file, from) => {
    expect(await layerErrors(file, from)).toEqual([]);
  });
});
