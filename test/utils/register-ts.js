/**
 * Lets a child process run the apps straight from TypeScript (tests and benchmarks spawn real API and worker
 * processes): `node -r ./test/utils/register-ts.js apps/vault-worker/src/main.ts`. Compiles .ts with swc
 * (decorator metadata on, as nest build does); tsconfig-paths maps the `@vault/*` aliases from tsconfig.json.
 */
'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const { transformSync } = require('@swc/core');
const tsconfigPaths = require('tsconfig-paths');
const swcOptions = require('./swc-options');

const paths = tsconfigPaths.loadConfig(path.join(__dirname, '..', '..'));
if (paths.resultType !== 'success') throw new Error(`register-ts: ${paths.message}`);

Module._extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    ...swcOptions,
    filename,
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};

tsconfigPaths.register({ baseUrl: paths.absoluteBaseUrl, paths: paths.paths, addMatchAll: false });
