import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { ConfigError, TOKENS, createPlugin, listPlugins, paramsJsonSchema } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { register } from './register.js';
import {
  EMBEDDED_MNIST_TEST_SIZE,
  EMBEDDED_MNIST_TRAIN_SIZE,
  MNIST_PARAMS,
  loadEmbeddedMnist,
  stratifiedTrainCounts,
} from './mnist.js';

/** Per-class counts of the embedded split, as documented in the README. */
const DOCUMENTED_TRAIN = [801, 902, 793, 826, 784, 690, 811, 856, 755, 782];
const DOCUMENTED_TEST = [200, 225, 198, 206, 196, 173, 203, 214, 189, 196];

function classCounts(labels: Int32Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]! += 1;
  return counts;
}

describe('embedded MNIST', () => {
  it('holds 10,000 real digits split 8,000 / 2,000 with the documented per-class counts', () => {
    const { train, test } = loadEmbeddedMnist();
    expect(train.size).toBe(EMBEDDED_MNIST_TRAIN_SIZE);
    expect(test.size).toBe(EMBEDDED_MNIST_TEST_SIZE);
    expect(train.size + test.size).toBe(10_000);
    expect(train.inputShape).toEqual([28, 28, 1]);
    expect(test.inputShape).toEqual([28, 28, 1]);
    expect(train.numClasses).toBe(10);
    expect(classCounts(train.labels)).toEqual(DOCUMENTED_TRAIN);
    expect(classCounts(test.labels)).toEqual(DOCUMENTED_TEST);
  });

  it('keeps pixels in [0, 1] and looks like handwritten digits (mostly background, some ink)', () => {
    const { train, test } = loadEmbeddedMnist();
    for (const split of [train, test]) {
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const v of split.images) {
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      expect(min).toBe(0);
      expect(max).toBe(1);
      // MNIST's mean intensity is about 0.13.
      expect(sum / split.images.length).toBeGreaterThan(0.08);
      expect(sum / split.images.length).toBeLessThan(0.2);
    }
  });

  it('does not put the same digit in both splits', () => {
    const { train, test } = loadEmbeddedMnist();
    const key = (images: Float32Array, i: number) => Array.from(images.subarray(i * 784, (i + 1) * 784)).join(',');
    const seen = new Set<string>();
    for (let i = 0; i < train.size; i++) seen.add(key(train.images, i));
    let overlap = 0;
    for (let i = 0; i < test.size; i++) if (seen.has(key(test.images, i))) overlap++;
    // The package has a handful of exact duplicates at most; a leaky split would overlap by hundreds.
    expect(overlap).toBeLessThan(5);
  });

  it('is deterministic and prefixes are near class-balanced', () => {
    const a = loadEmbeddedMnist({ trainSize: 500, testSize: 100 });
    const b = loadEmbeddedMnist({ trainSize: 500, testSize: 100 });
    expect(a.train.size).toBe(500);
    expect(a.test.size).toBe(100);
    expect(Array.from(a.train.labels)).toEqual(Array.from(b.train.labels));
    expect(a.train.images).toEqual(b.train.images);
    // The prefix is the start of the full split.
    expect(Array.from(a.train.labels)).toEqual(Array.from(loadEmbeddedMnist().train.labels.subarray(0, 500)));
    for (const count of classCounts(a.train.labels)) {
      expect(count).toBeGreaterThan(25);
      expect(count).toBeLessThan(80);
    }
  });

  it('gathers batches as [n, 28, 28, 1] float32 tensors with int32 labels', async () => {
    await expectNoLeaks(() => {
      const { train } = loadEmbeddedMnist({ trainSize: 64 });
      const { x, labels } = train.batch([3, 1, 4]);
      expect(x.shape).toEqual([3, 28, 28, 1]);
      expect(x.dtype).toBe('float32');
      expect(labels.dtype).toBe('int32');
      expect(Array.from(labels.dataSync())).toEqual([train.labels[3], train.labels[1], train.labels[4]]);
      const max = tf.tidy(() => x.max().dataSync()[0]!);
      expect(max).toBeLessThanOrEqual(1);
      x.dispose();
      labels.dispose();
    });
  });

  it('largest-remainder counts always sum to the requested total', () => {
    expect(stratifiedTrainCounts([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978], 8000)).toEqual(DOCUMENTED_TRAIN);
    expect(stratifiedTrainCounts([5, 5, 5], 7).reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('is registered as "mnist", validates its params and exports a JSON Schema', async () => {
    const container = rootContainer.createChildContainer();
    register(container);
    expect(listPlugins(container, TOKENS.Dataset)).toEqual(['cifar10', 'fashion-mnist', 'idx', 'mnist', 'synthetic']);
    const splits = await createPlugin(container, TOKENS.Dataset, 'mnist', { trainSize: 10, testSize: 5 }).load();
    expect([splits.train.size, splits.test.size]).toEqual([10, 5]);
    expect(() => createPlugin(container, TOKENS.Dataset, 'mnist', { trainSize: 9000 })).toThrow(ConfigError);
    expect(() => createPlugin(container, TOKENS.Dataset, 'mnist', { trainsize: 10 })).toThrow(/mnist\.trainsize/);
    expect(paramsJsonSchema(MNIST_PARAMS)).toMatchObject({ properties: { trainSize: { type: 'integer', maximum: 8000 } } });
  });
});
