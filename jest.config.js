/** Jest: unit specs beside the code, integration specs against real PostgreSQL/Redis/OAuth peers. */
const swcTs = ['@swc/jest', require('./test/utils/swc-options')];
const swcJs = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
];
const esmOnly = [
  '@nestjs',
  'cookie',
  'content-disposition',
  'jose',
  'oauth4webapi',
  'openid-client',
  'oidc-provider',
  'file-type',
  'quick-lru',
  'eta',
  'nanoid',
];
const common = {
  rootDir: __dirname,
  modulePathIgnorePatterns: ['<rootDir>/libs/client/dist'],
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/utils/jest-setup.ts'],
  moduleFileExtensions: ['js', 'mjs', 'json', 'ts'],
  transform: { '^.+\\.ts$': swcTs, '^.+\\.m?js$': swcJs },
  transformIgnorePatterns: [`/node_modules/(?!(?:${esmOnly.join('|')})/)(?!.*/node_modules/)`],
  moduleNameMapper: {
    '^@vault/core(|/.*)$': '<rootDir>/libs/core/src$1',
    '^@vault/persistence(|/.*)$': '<rootDir>/libs/persistence/src$1',
    '^@vault/crypto(|/.*)$': '<rootDir>/libs/crypto/src$1',
    '^@vault/providers(|/.*)$': '<rootDir>/libs/providers/src$1',
    '^@vault/client$': '<rootDir>/libs/client/src',
  },
};
module.exports = {
  testTimeout: 120000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/test/lint/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
    },
  ],
};
