// jest runs TypeScript through @swc/jest; jose 6 is ESM-only, so it is transformed too. The global setup
// brings dist/ up to date first: tests that spawn the CLI run the compiled entry the bin and image run.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/global-build.cjs',
};
