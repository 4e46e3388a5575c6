import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';

// Specs import sibling packages from source, so a change in one package is tested
// without rebuilding the others; `npm test` still type-checks and builds everything first.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
const alias = readdirSync(packagesDir).flatMap((name) => [
  { find: new RegExp(`^@tempered/${name}$`), replacement: `${packagesDir}${name}/src/index.ts` },
  // Public subpaths (e.g. @tempered/core/testing) from source too, so one copy of each class is loaded.
  { find: new RegExp(`^@tempered/${name}/testing$`), replacement: `${packagesDir}${name}/src/testing.ts` },
]);

export default defineConfig({
  resolve: { alias },
  // Legacy (experimental) decorators as in tsconfig; spec files sit outside the build tsconfig.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    include: ['packages/*/src/**/*.spec.ts', 'test/**/*.spec.ts', 'examples/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['./test/setup.ts'],
    // CI reads the JSON report for its closing 'N passed, N failed' line.
    reporters: process.env.VITEST_JSON_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON_REPORT ? { json: process.env.VITEST_JSON_REPORT } : undefined,
  },
});
