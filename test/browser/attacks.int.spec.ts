import * as tf from '@tensorflow/tfjs';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, optimizeStep, selectBackend } from '@tempered/core';
import { loadLayersModel, saveLayersModel } from '@tempered/core/node';
import { papernotMnistCnn } from '@tempered/models';
import { loadEmbeddedMnist } from '@tempered/datasets';
import { assertBuilt, tempDir } from '../helpers.js';
// @ts-expect-error plain ESM build script without types
import { bundleForBrowser, wasmBinariesDir } from '../../packages/cli/scripts/browser-bundle.mjs';
import { launchChromium, serve, type Chromium } from './chromium.js';
import { runAttackSuite, SUITE_SETTINGS, type SuiteAttack, type SuiteOutput } from './attack-suite.js';

/**
 * The attacks in a real browser: a page bundled from the built packages loads a model that
 * Tempered trained and saved in Node, and runs FGSM, PGD and C&W on the wasm backend with
 * @tempered/wasm-train's kernels. Node runs the same suite on the same saved weights and digits,
 * on wasm with the same kernels: the outputs must agree.
 */
const HERE = fileURLToPath(new URL('.', import.meta.url));
const DIGITS = 8;
const INPUT_SHAPE = [28, 28, 1];

let dir: string;
let pixels: number[];
let labels: number[];
let node: SuiteOutput;
let chromium: Chromium;
let server: { url: string; close(): Promise<void> };
let previousBackend: string;

beforeAll(async () => {
  assertBuilt();
  previousBackend = tf.getBackend();
  expect((await selectBackend('wasm')).source).toMatch(/@tempered\/wasm-train/);
  const tensorsBefore = tf.memory().numTensors;
  dir = tempDir('browser-attacks');
  // A small Papernot CNN (conv, pooling and dense kernels), trained briefly so gradients mean something.
  const mnist = loadEmbeddedMnist({ trainSize: 1024, testSize: DIGITS });
  const model = papernotMnistCnn({ name: 'browser-cnn', inputShape: INPUT_SHAPE, numClasses: 10, seed: 5, widthMultiplier: 0.25 });
  const optimizer = tf.train.adam(3e-3);
  for (let epoch = 0; epoch < 2; epoch++) for (let start = 0; start < mnist.train.size; start += 64) {
    const batch = mnist.train.batch(Array.from({ length: 64 }, (_, i) => start + i));
    optimizeStep(optimizer, model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val), () => ({
      loss: crossEntropy(model.apply(batch.x, { training: true }) as tf.Tensor2D, batch.labels),
    }));
    tf.dispose([batch.x, batch.labels]);
  }
  optimizer.dispose();
  await saveLayersModel(model, join(dir, 'model'));
  model.dispose();

  pixels = Array.from(mnist.test.images);
  labels = Array.from(mnist.test.labels);
  const saved = await loadLayersModel(join(dir, 'model'));
  node = await runAttackSuite(saved, pixels, labels, INPUT_SHAPE);
  saved.dispose();
  expect(tf.memory().numTensors, 'tensors left behind in Node').toBe(tensorsBefore);

  const { code } = await bundleForBrowser({ contents: `import './attack-page.ts';`, resolveDir: HERE, minify: false });
  const wasmFiles = new Set(readdirSync(wasmBinariesDir()).filter((f: string) => f.endsWith('.wasm')));
  server = await serve((path) => {
    if (path === '/') return { body: '<!doctype html><meta charset="utf-8"><title>attacks</title><link rel="icon" href="data:,"><script type="module" src="/page.js"></script>', type: 'text/html' };
    if (path === '/page.js') return { body: code, type: 'text/javascript' };
    const wasm = /^\/wasm\/([\w.-]+)$/.exec(path);
    if (wasm && wasmFiles.has(wasm[1]!)) return { body: readFileSync(join(wasmBinariesDir(), wasm[1]!)), type: 'application/wasm' };
    const file = /^\/model\/(model\.json|weights\.bin)$/.exec(path);
    if (file) return { body: readFileSync(join(dir, 'model', file[1]!)), type: file[1]!.endsWith('.json') ? 'application/json' : 'application/octet-stream' };
    return undefined;
  });
  chromium = await launchChromium('running the attacks in headless Chromium');
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (previousBackend) await tf.setBackend(previousBackend);
});

async function inBrowser(backend: string): Promise<{ output?: SuiteOutput; offered: boolean; problems: string[] }> {
  const { page, problems } = await chromium.page(server.url);
  try {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="yes"]', { timeout: 60_000 });
    const offered = await page.evaluate((name) => (globalThis as any).tempered.hasBackend(name), backend);
    if (!offered) return { offered, problems };
    const output = (await page.evaluate(
      (name, modelUrl, xs, ys, shape) => (globalThis as any).tempered.run(name, modelUrl, xs, ys, shape),
      backend, `${server.url}/model/model.json`, pixels, labels, INPUT_SHAPE,
    )) as SuiteOutput & { leaked: number };
    expect(output.leaked, `tensors left behind on ${backend}`).toBe(0);
    return { output, offered, problems };
  } finally {
    await page.close();
  }
}

const maxAbsDifference = (a: number[], b: number[]): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('attacks in headless Chromium', () => {
  it('FGSM, PGD and C&W on wasm give what Node gives on the same weights and digits', async () => {
    const { output, problems } = await inBrowser('wasm');
    expect(problems).toEqual([]);
    expect(output!.backend).toBe('wasm');
    expect(output!.clean).toEqual(node.clean);
    // The attacks did something: every one moves at least one digit's prediction.
    for (const name of Object.keys(SUITE_SETTINGS) as SuiteAttack[]) {
      const browser = output!.attacks[name];
      expect(node.attacks[name].predictions.some((p, i) => p !== node.clean[i]), `${name} changes a prediction`).toBe(true);
      expect(browser.predictions, `${name} predictions`).toEqual(node.attacks[name].predictions);
      expect(maxAbsDifference(browser.adversarial, node.attacks[name].adversarial), `${name} max |browser − node|`).toBe(0);
    }
  });

  // WebGL cannot be bit-identical, and it differs for reasons other than rounding. Measured on
  // this spec's model: PGD (random start) on webgl equals Node's *cpu* backend exactly; before
  // @tempered/wasm-train corrected Sign, wasm differed from both on ~9% of pixels (stock Sign
  // returned 0 for |g| ≈ 1e-10). FGSM and C&W start on the clean
  // digit, whose flat zero background makes MaxPool windows tie; webgl routes the gradient of a
  // tie to another window position than cpu/wasm, so ~24% (FGSM) and ~2.5% (C&W) of pixels differ.
  // What must still hold: the same clean logits, every adversarial inside its threat model, and
  // about the same number of successes as Node.
  it('on webgl, where this Chromium offers it, agrees with Node up to float differences', async () => {
    const { output, offered } = await inBrowser('webgl');
    console.info(`webgl offered by headless Chromium: ${offered}`);
    if (!offered) return;
    expect(output!.backend).toBe('webgl');
    expect(output!.clean).toEqual(node.clean);
    expect(maxAbsDifference(output!.logits, node.logits)).toBeLessThan(1e-3);
    for (const name of Object.keys(SUITE_SETTINGS) as SuiteAttack[]) {
      const browser = output!.attacks[name];
      const reference = node.attacks[name];
      const far = browser.adversarial.filter((v, i) => Math.abs(v - reference.adversarial[i]!) > 1e-3).length / pixels.length;
      console.info(`webgl ${name}: max |browser − node| ${maxAbsDifference(browser.adversarial, reference.adversarial).toFixed(4)}, pixels off by > 1e-3: ${(100 * far).toFixed(1)}%, predictions ${browser.predictions.join('')} (node ${reference.predictions.join('')})`);
      expect(Math.min(...browser.adversarial)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...browser.adversarial)).toBeLessThanOrEqual(1);
      if (name !== 'cw') expect(maxAbsDifference(browser.adversarial, pixels)).toBeLessThanOrEqual(SUITE_SETTINGS[name].epsilon + 1e-6);
      const successes = (p: number[]) => p.filter((c, i) => c !== labels[i]).length;
      expect(Math.abs(successes(browser.predictions) - successes(reference.predictions)), `${name} successes`).toBeLessThanOrEqual(1);
    }
  });
});
