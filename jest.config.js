/** Jest runs the TypeScript sources through ts-jest as CommonJS (transpile only); type checking is `npm run typecheck`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  testTimeout: 60000,
  maxWorkers: 2,
  globalSetup: '<rootDir>/tests/global-setup.ts',
};
