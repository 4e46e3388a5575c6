import { describe, expect, it } from 'vitest';
import { ROOT, assertBuilt } from '../helpers.js';
// @ts-expect-error plain ESM build script without types
import { bundleForBrowser } from '../../packages/cli/scripts/browser-bundle.mjs';

// Bundles what a web app would import, from the built packages (dist, as published), for
// --platform=browser. The /node entries are the control: the check must catch their built-ins.
const BROWSER_ENTRIES = ['@tempered/core', '@tempered/attacks', '@tempered/models', '@tempered/reports', '@tempered/wasm-train'];

const bundle = (specifier: string): Promise<{ code: string; bytes: number }> =>
  bundleForBrowser({ contents: `export * from '${specifier}';`, resolveDir: ROOT, minify: false });

describe('browser bundles', () => {
  it.each(BROWSER_ENTRIES)('%s bundles for the browser without a Node built-in', async (specifier) => {
    assertBuilt();
    const { bytes } = await bundle(specifier);
    expect(bytes).toBeGreaterThan(0);
  });

  it.each(['@tempered/core/node', '@tempered/reports/node'])('%s is refused, naming its built-ins', async (specifier) => {
    await expect(bundle(specifier)).rejects.toThrow(/Node built-ins: node:fs \(imported by .*packages\/core\/dist\/(io|fs|checkpoint)\.js\)/);
  });
});
