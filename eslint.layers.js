/**
 * The layer rule (eslint-plugin-boundaries): apps → core → (persistence, crypto, providers), never back up.
 * Imports are resolved through tsconfig's paths, so `@vault/persistence` and `../../libs/persistence/src/…` are
 * the same dependency. CommonJS so that the unit test (test/lint/layers.spec.ts) can load it without ESM.
 */
'use strict';
const { join } = require('node:path');
const boundaries = require('eslint-plugin-boundaries');

const LOWER_LIBS = ['persistence', 'crypto', 'providers'];

module.exports = {
  files: ['apps/**/*.ts', 'libs/**/*.ts'],
  plugins: { boundaries },
  settings: {
    'import/resolver': { typescript: { project: join(__dirname, 'tsconfig.json') } },
    'boundaries/root-path': __dirname,
    'boundaries/elements': [
      { type: 'app', pattern: 'apps/*' },
      { type: 'core', pattern: 'libs/core' },
      ...LOWER_LIBS.map((name) => ({ type: name, pattern: `libs/${name}` })),
    ],
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'allow',
        policies: [
          {
            from: { element: { type: 'app' } },
            disallow: { to: { element: { types: { anyOf: LOWER_LIBS } } } },
            message: 'an app reaches persistence, crypto and providers only through @vault/core',
          },
          {
            from: { element: { types: { anyOf: ['core', ...LOWER_LIBS] } } },
            disallow: { to: { element: { type: 'app' } } },
            message: 'a lib never imports an app',
          },
          {
            from: { element: { types: { anyOf: LOWER_LIBS } } },
            disallow: { to: { element: { type: 'core' } } },
            message: 'persistence, crypto and providers never import core',
          },
        ],
      },
    ],
  },
};
