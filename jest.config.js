const libs = ['oauth-core', 'tokens', 'persistence', 'config', 'server', 'testing', 'token-guard', 'metrics', 'logging'];
const swc = ['@swc/jest', {
  jsc: {
    target: 'es2023',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'es6' },
}];

/** @type {import('jest').Config} */
export default {
  rootDir: '.',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    ...Object.fromEntries(libs.flatMap((l) => [
      [`^@tessera/${l}$`, `<rootDir>/libs/${l}/src/index.ts`],
      [`^@tessera/${l}/(.*)\\.js$`, `<rootDir>/libs/${l}/src/$1`],
    ])),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/setup/global-setup.mjs',
  globalTeardown: '<rootDir>/test/setup/global-teardown.mjs',
  testEnvironment: 'node',
  testTimeout: 30000,
  // Some runs kept the main process alive after the global teardown (no open handle found by --detectOpenHandles);
  // a CI run must never hang on that.
  forceExit: true,
};
