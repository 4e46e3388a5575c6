import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { syntheticSplits } from './synthetic.js';

describe('synthetic generator', () => {
  it('same parameters → bit-identical data; another seed → different data', () => {
    const a = syntheticSplits({ trainSize: 40, testSize: 20, seed: 9 });
    const b = syntheticSplits({ trainSize: 40, testSize: 20, seed: 9 });
    const c = syntheticSplits({ trainSize: 40, testSize: 20, seed: 10 });
    expect(a.train.images).toEqual(b.train.images);
    expect(a.test.images).toEqual(b.test.images);
    expect(Array.from(a.train.labels)).toEqual(Array.from(b.train.labels));
    expect(a.train.images).not.toEqual(c.train.images);
    // Train and test are independent draws.
    expect(a.train.images.subarray(0, 784)).not.toEqual(a.test.images.subarray(0, 784));
  });

  it('respects shape, class count, balance and the [0, 1] range (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          trainSize: fc.integer({ min: 1, max: 30 }),
          testSize: fc.integer({ min: 1, max: 10 }),
          numClasses: fc.integer({ min: 2, max: 7 }),
          height: fc.integer({ min: 1, max: 9 }),
          width: fc.integer({ min: 1, max: 9 }),
          channels: fc.integer({ min: 1, max: 3 }),
          noise: fc.double({ min: 0, max: 2, noNaN: true }),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        (params) => {
          const { train, test } = syntheticSplits(params);
          expect(train.inputShape).toEqual([params.height, params.width, params.channels]);
          expect([train.size, test.size]).toEqual([params.trainSize, params.testSize]);
          const counts = new Array<number>(params.numClasses).fill(0);
          for (const label of train.labels) counts[label]! += 1;
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          for (const v of train.images) expect(v >= 0 && v <= 1).toBe(true);
        },
      ),
      { numRuns: 40, seed: 5 },
    );
  });

  it('is class-separable: nearest class mean on train classifies test near-perfectly at the default noise', async () => {
    const { train, test } = syntheticSplits({ trainSize: 200, testSize: 100, numClasses: 10, height: 12, width: 12, channels: 3, seed: 3 });
    const d = 12 * 12 * 3;
    const means = Array.from({ length: 10 }, () => new Float64Array(d));
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < train.size; i++) {
      const label = train.labels[i]!;
      counts[label]! += 1;
      for (let j = 0; j < d; j++) means[label]![j]! += train.images[i * d + j]!;
    }
    means.forEach((m, c) => m.forEach((_, j) => (m[j]! /= counts[c]!)));
    let correct = 0;
    for (let i = 0; i < test.size; i++) {
      let best = -1;
      let bestDistance = Infinity;
      for (let c = 0; c < 10; c++) {
        let distance = 0;
        for (let j = 0; j < d; j++) distance += (test.images[i * d + j]! - means[c]![j]!) ** 2;
        if (distance < bestDistance) [best, bestDistance] = [c, distance];
      }
      if (best === test.labels[i]) correct++;
    }
    expect(correct / test.size).toBeGreaterThan(0.95);
    await expectNoLeaks(() => {
      const { x, labels } = test.batch([0, 1]);
      expect(x.shape).toEqual([2, 12, 12, 3]);
      x.dispose();
      labels.dispose();
    });
  });

  it('rejects bad parameters with a ConfigError naming the field', () => {
    expect(() => syntheticSplits({ numClasses: 1 })).toThrow(ConfigError);
    expect(() => syntheticSplits({ noise: -1 })).toThrow(/synthetic\.noise: expected ≥ 0/);
    expect(() => syntheticSplits({ height: 2.5 })).toThrow(/synthetic\.height: expected an integer/);
  });
});
