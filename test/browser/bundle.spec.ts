import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, assertBuilt } from '../helpers.js';
// @ts-expect-error plain ESM build script without types
import { bundleForBrowser } from '../../packages/cli/scripts/browser-bundle.mjs';
import { launchChromium, serve, type Chromium } from './chromium.js';

// Bundles what a web app would import, from the built packages (dist, as published), for
// --platform=browser, then runs each bundle in headless Chromium: a bundle that builds can still
// throw when a page evaluates it (a bare `process`, `Buffer` or `require`). The /node entries are
// the control: the check must catch their built-ins.
const BROWSER_ENTRIES = ['@tempered/core', '@tempered/attacks', '@tempered/models', '@tempered/reports', '@tempered/evaluation', '@tempered/wasm-train'];

const bundle = (specifier: string, minify = false): Promise<{ code: string; bytes: number; inputs: string[] }> =>
  bundleForBrowser({ contents: `export * from '${specifier}';`, resolveDir: ROOT, minify });

/**
 * What each page does with its entry once loaded, beyond evaluating it: calls that reach the code
 * that used to read `process` (core's progress listeners defaulted to `process.stderr`).
 */
const EXERCISE: Record<string, string> = {
  '@tempered/core': `
    const lines = [];
    const log = console.info;
    console.info = (line) => lines.push(line);
    try {
      const progress = new entry.StepProgress();
      progress.step(0, 2, 'first step');
      progress.end('done');
      const handlers = {};
      new entry.ProgressListener().attach({ on: (event, handler) => { handlers[event] = handler; } });
      handlers['phase:start']({ model: 'student', phase: { name: 'train', epochs: 1 } });
    } finally {
      console.info = log;
    }
    return lines;`,
  '@tempered/wasm-train': `return entry.registerWasmTrainingKernels().length > 0 ? ['kernels registered'] : [];`,
};
const EXPECTED_LINES: Record<string, RegExp[]> = {
  '@tempered/core': [/^\[1\/2\] first step$/, /^done \(0:00\)$/, /^student: phase train \(1 epochs\)$/],
  '@tempered/wasm-train': [/^kernels registered$/],
};

const bundles = new Map<string, string>();
let chromium: Chromium | undefined;
let server: { url: string; close(): Promise<void> } | undefined;

async function startBrowser(): Promise<{ chromium: Chromium; url: string }> {
  if (!server) {
    server = await serve((path) => {
      if (path === '/') return { body: '<!doctype html><meta charset="utf-8"><title>entry</title><link rel="icon" href="data:,">', type: 'text/html' };
      const entry = /^\/entry\/(\d+)\.js$/.exec(path);
      const code = entry ? bundles.get(BROWSER_ENTRIES[Number(entry[1])]!) : undefined;
      return code === undefined ? undefined : { body: code, type: 'text/javascript' };
    });
  }
  chromium ??= await launchChromium('running the browser entries in headless Chromium');
  return { chromium, url: server.url };
}

beforeAll(() => assertBuilt());

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

describe('browser entries', () => {
  it.each(BROWSER_ENTRIES)('%s bundles for the browser without a Node built-in', async (specifier) => {
    const { code, bytes } = await bundle(specifier);
    expect(bytes).toBeGreaterThan(0);
    bundles.set(specifier, code);
  });

  it.each(BROWSER_ENTRIES)('%s runs in headless Chromium, exporting what Node sees', async (specifier) => {
    if (!bundles.has(specifier)) bundles.set(specifier, (await bundle(specifier)).code);
    const { chromium, url } = await startBrowser();
    const { page, problems } = await chromium.page(url);
    try {
      await page.goto(`${url}/`);
      const body = `const entry = await import('/entry/${BROWSER_ENTRIES.indexOf(specifier)}.js');
        const run = async () => { ${EXERCISE[specifier] ?? 'return [];'} };
        return { names: Object.keys(entry).sort(), lines: await run() };`;
      // A string body, so the page runs exactly this code and not a compiled copy of a closure.
      const result = (await page.evaluate(`(async () => { ${body} })()`)) as { names: string[]; lines: string[] };
      expect(problems).toEqual([]);
      const inNode = Object.keys(await import(/* @vite-ignore */ specifier)).sort();
      expect(result.names).toEqual(inNode);
      const expected = EXPECTED_LINES[specifier] ?? [];
      expect(result.lines).toHaveLength(expected.length);
      expected.forEach((pattern, i) => expect(result.lines[i]).toMatch(pattern));
    } finally {
      await page.close();
    }
  });

  it('keeps the benchmark and the kernel audit out of @tempered/wasm-train (they are /node and /audit)', async () => {
    const names = Object.keys(await import('@tempered/wasm-train'));
    for (const name of ['benchPapernotCnn', 'papernotMnistCnn', 'KernelRecorder', 'auditKernelCall', 'KNOWN_WASM_DIFFERENCES']) expect(names).not.toContain(name);
    expect(Object.keys(await import('@tempered/wasm-train/node'))).toContain('benchPapernotCnn');
    expect(Object.keys(await import('@tempered/wasm-train/audit'))).toEqual(expect.arrayContaining(['KernelRecorder', 'auditKernelCall', 'KNOWN_WASM_DIFFERENCES']));
  });

  it('bundles @tempered/reports (the results layer) with no tfjs, no attack and no engine', async () => {
    const { inputs, bytes } = await bundle('@tempered/reports', true);
    // The control: a file of the results layer and the tfjs-free part of core are in the bundle,
    // so an empty or failed input list cannot pass.
    expect(inputs).toEqual(expect.arrayContaining([expect.stringMatching(/packages\/reports\/dist\/render-html\.js$/), expect.stringMatching(/packages\/core\/dist\/pure\.js$/)]));
    expect(inputs.filter((path) => path.includes('@tensorflow/'))).toEqual([]);
    expect(inputs.filter((path) => /packages\/(attacks|evaluation)\/|packages\/core\/dist\/index\.js$/.test(path))).toEqual([]);
    expect(bytes).toBeGreaterThan(0);
    // The engine's own bundle does pull in tfjs: the check above would see it.
    expect((await bundle('@tempered/evaluation')).inputs.some((path) => path.includes('@tensorflow/tfjs-core'))).toBe(true);
  });

  // Built-ins are listed in esbuild's resolution order, which is not fixed: match anywhere in the list.
  it.each([
    ['@tempered/core/node', /Node built-ins: .*node:fs \(imported by [^)]*packages\/core\/dist\/(io|fs|checkpoint)\.js\)/],
    ['@tempered/reports/node', /Node built-ins: .*node:fs \(imported by [^)]*packages\/reports\/dist\/reports\.js\)/],
    ['@tempered/evaluation/node', /Node built-ins: .*node:worker_threads \(imported by [^)]*packages\/evaluation\/dist\/pool\.js\)/],
  ])('%s is refused, naming its built-ins', async (specifier, message) => {
    await expect(bundle(specifier)).rejects.toThrow(message);
  });
});
