// Browser bundles with esbuild: the explorer page at build time (run as a script), and the
// bundle specs (imported). A Node built-in reached from a Tempered file fails the bundle, whatever
// a package's "browser" field would let esbuild do with it; third-party packages (tfjs) may map
// their own Node-only branches away through their "browser" field, as they do for every bundler.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const isTemperedFile = (path) => !path.split(sep).includes('node_modules') || /node_modules[\\/]@tempered[\\/]/.test(path);

/**
 * Bundles `contents` (an ES module, resolved from `resolveDir`) for `--platform=browser`.
 * Resolves to `{ code, bytes, inputs }` (`inputs`: every source file in the bundle, from esbuild's
 * metafile, relative to the working directory); rejects naming every Node built-in a Tempered file imports.
 * @param {{ contents: string, resolveDir: string, minify?: boolean, sourcemap?: boolean }} options
 */
export async function bundleForBrowser({ contents, resolveDir, minify = true, sourcemap = false }) {
  const builtins = [];
  const result = await esbuild.build({
    stdin: { contents, resolveDir, sourcefile: 'entry.js', loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify,
    sourcemap: sourcemap ? 'inline' : false,
    write: false,
    metafile: true,
    logLevel: 'silent',
    // tfjs-core asks for util/string_decoder/crypto only on its Node platform path.
    plugins: [
      {
        name: 'no-node-builtins',
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (isBuiltin(args.path) && isTemperedFile(args.importer)) {
              builtins.push(`${args.path} (imported by ${args.importer})`);
              return { path: args.path, external: true };
            }
            return undefined;
          });
        },
      },
    ],
  });
  if (builtins.length > 0) throw new Error(`browser bundle imports Node built-ins: ${builtins.join('; ')}`);
  const code = result.outputFiles[0].text;
  return { code, bytes: result.outputFiles[0].contents.byteLength, inputs: Object.keys(result.metafile.inputs) };
}

/** The directory holding tfjs-backend-wasm's .wasm binaries, to serve beside a page. */
export function wasmBinariesDir() {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/** Writes the explorer page (index.html, app.js, the wasm binaries) into `outDir`. */
export async function buildExplorerPage(outDir) {
  const here = dirname(fileURLToPath(import.meta.url));
  const pageDir = join(here, '..', 'src', 'explore', 'page');
  const { code } = await bundleForBrowser({ contents: `import './app.ts';`, resolveDir: pageDir });
  mkdirSync(join(outDir, 'wasm'), { recursive: true });
  writeFileSync(join(outDir, 'app.js'), code);
  copyFileSync(join(pageDir, 'index.html'), join(outDir, 'index.html'));
  for (const file of readdirSync(wasmBinariesDir())) {
    if (file.endsWith('.wasm')) copyFileSync(join(wasmBinariesDir(), file), join(outDir, 'wasm', file));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'explore', 'page');
  await buildExplorerPage(out);
}
