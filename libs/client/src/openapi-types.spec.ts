import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

describe('generated OpenAPI types', () => {
  it('src/generated/openapi.ts matches docs/openapi.json (npm run client:types rewrites it)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const [bin, ...args] = (pkg.scripts['client:types'] ?? '').split(/\s+/);
    expect(bin).toBe('openapi-typescript');
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), ...args, '--check'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect({ status: r.status, output: r.status === 0 ? '' : r.stdout + r.stderr }).toEqual({
      status: 0,
      output: '',
    });
  });
});
