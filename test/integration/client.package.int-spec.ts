import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * libs/client as a published package: built to its own dist by `npm run build:client`, packed with only
 * dist and README, no runtime dependency, and usable from CommonJS, ESM and TypeScript code outside the
 * monorepo (installed as node_modules/@vault/client).
 */
const ROOT = join(__dirname, '..', '..');
const PKG = join(ROOT, 'libs', 'client');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: 'pipe' });

describe('the @vault/client package', () => {
  let consumer: string;

  beforeAll(() => {
    npm(['run', 'build:client'], ROOT);
    consumer = mkdtempSync(join(tmpdir(), 'vault-client-consumer-'));
    mkdirSync(join(consumer, 'node_modules', '@vault'), { recursive: true });
    symlinkSync(PKG, join(consumer, 'node_modules', '@vault', 'client'), 'dir');
  }, 120_000);
  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it('packs dist and README only, with main, types and exports pointing into dist, and no dependency', () => {
    const manifest = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: '@vault/client',
      main: 'dist/index.js',
      types: 'dist/index.d.ts',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    });
    expect(manifest.dependencies ?? {}).toEqual({});
    const [packed] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], PKG)) as {
      files: { path: string }[];
    }[];
    const files = packed!.files.map((f) => f.path).sort();
    expect(files).toEqual(
      expect.arrayContaining(['README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']),
    );
    expect(files.filter((f) => !/^(dist\/.+\.(js|d\.ts)|README\.md|package\.json)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /spec|testing/.test(f))).toEqual([]);
  });

  it('requires nothing but its own files and Node built-ins', () => {
    const js = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? js(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
      );
    const required = js(join(PKG, 'dist')).flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]),
    );
    expect(required.length).toBeGreaterThan(0);
    expect(
      required.filter((r) => !r!.startsWith('./') && !r!.startsWith('../') && !r!.startsWith('node:')),
    ).toEqual([]);
  });

  it('loads from CommonJS and ESM and type-checks in a TypeScript consumer', () => {
    writeFileSync(
      join(consumer, 'cjs.js'),
      "const c = require('@vault/client'); console.log(typeof c.VaultClient, new c.ReauthRequiredError('m', 'reauth_required', 409, { reason: 'invalid_grant' }).reason);",
    );
    expect(execFileSync(process.execPath, ['cjs.js'], { cwd: consumer, encoding: 'utf8' }).trim()).toBe(
      'function invalid_grant',
    );
    writeFileSync(
      join(consumer, 'esm.mjs'),
      "import { VaultClient, NotFoundError } from '@vault/client'; console.log(typeof VaultClient, typeof NotFoundError);",
    );
    expect(execFileSync(process.execPath, ['esm.mjs'], { cwd: consumer, encoding: 'utf8' }).trim()).toBe(
      'function function',
    );
    writeFileSync(
      join(consumer, 'service.ts'),
      [
        "import { VaultClient, ReauthRequiredError, type AccessToken, type ConnectionStatus } from '@vault/client';",
        "const vault = new VaultClient({ baseUrl: 'http://vault:3000', apiKey: process.env.VAULT_API_KEY ?? '' });",
        'export async function bearer(id: string): Promise<string> {',
        '  try {',
        '    const t: AccessToken = await vault.getToken(id, { minTtl: 120 });',
        '    return `${t.token_type} ${t.access_token}`;',
        '  } catch (e) {',
        '    if (e instanceof ReauthRequiredError) return `reauth:${e.reason}`;',
        '    throw e;',
        '  }',
        '}',
        "export const s: ConnectionStatus = 'needs_reauth';",
      ].join('\n'),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['service.ts'],
      }),
    );
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], {
      cwd: consumer,
      encoding: 'utf8',
    });
  });
});
