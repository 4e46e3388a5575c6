import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';

// Specs import sibling packages from source, so a change in one package is tested
// without rebuilding the others; `npm test` still type-checks and builds everything first.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
// Subpath exports (`@tempered/core/node`, `@tempered/core/testing`) map to their source file the
// same way: `./dist/<file>.js` in package.json's exports is `src/<file>.ts`.
const alias = readdirSync(packagesDir).flatMap((name) => {
  const exports = (JSON.parse(readFileSync(`${packagesDir}${name}/package.json`, 'utf8')) as { exports?: Record<string, { import?: string }> }).exports ?? {};
  return Object.entries(exports).map(([subpath, target]) => ({
    find: new RegExp(`^@tempered/${name}${subpath === '.' ? '' : subpath.slice(1)}$`),
    replacement: `${packagesDir}${name}/src/${(target.import ?? './dist/index.js').replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')}`,
  }));
});

/**
 * Integration specs (`*.int.spec.ts`, the slow ones) start first. On a fresh clone vitest has no
 * durations cached and keeps the include order, which put test/*.int.spec.ts last: with several
 * workers the suite then ended on one long spec while the others sat idle. With a cache (a second
 * local run), vitest's own longest-first order is kept within each group.
 */
class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const slow = (file: TestSpecification) => file.moduleId.endsWith('.int.spec.ts');
    return [...sorted.filter(slow), ...sorted.filter((file) => !slow(file))];
  }
}

export default defineConfig({
  resolve: { alias },
  // Legacy (experimental) decorators as in tsconfig; spec files sit outside the build tsconfig.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    // Two groups. Unit specs (a package's own *.spec.ts) share their worker processes: importing
    // tfjs and the packages again for each of 55 files cost more CPU than most of those specs
    // (core + reports unit specs: 24.5 s CPU isolated, 9.7 s shared; all pass either way). Every
    // spec that changes process-wide state for good (backends, the CLI, child processes, browsers)
    // is an integration spec (*.int.spec.ts, test/, examples/) and keeps a fresh process per file,
    // as do wasm-train's kernel specs, which switch backends and count every buffer a backend holds.
    projects: [
      {
        extends: true,
        test: { name: 'integration', include: ['packages/*/src/**/*.int.spec.ts', 'test/**/*.spec.ts', 'examples/**/*.spec.ts', 'packages/wasm-train/src/**/*.spec.ts'] },
      },
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/src/**/*.spec.ts'], exclude: ['**/node_modules/**', '**/*.int.spec.ts', 'packages/wasm-train/**'], isolate: false },
      },
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    sequence: { sequencer: SlowFirst },
    setupFiles: ['./test/setup.ts'],
    // CI reads the JSON report for its closing 'N passed, N failed' line.
    reporters: process.env.VITEST_JSON_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON_REPORT ? { json: process.env.VITEST_JSON_REPORT } : undefined,
  },
});
