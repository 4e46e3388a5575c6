import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed, type Model } from '@tempered/core';
import { Pgd } from './pgd.js';

export interface PgdThroughputOptions {
  /** Images per batch. Default 32. */
  readonly batch?: number;
  /** PGD iterations. Default 40 (PGD-40). */
  readonly steps?: number;
  /** L∞ radius. Default 0.3. */
  readonly epsilon?: number;
  /** Step size. Default 0.01. */
  readonly stepSize?: number;
  /** Timed repetitions after one untimed warm-up batch. Default 1. */
  readonly repeats?: number;
  readonly seed?: number;
}

export interface PgdThroughput {
  readonly backend: string;
  readonly batch: number;
  readonly steps: number;
  readonly repeats: number;
  readonly seconds: number;
  /** Adversarial images produced per second. */
  readonly imagesPerSecond: number;
  /** Forward+backward passes per second (imagesPerSecond × steps). */
  readonly gradientStepsPerSecond: number;
}

/**
 * Measures PGD L∞ throughput on random inputs within the model's bounds (for `tempered bench`).
 *
 * @example
 * const { imagesPerSecond } = await pgdThroughput(model, { batch: 32, steps: 40 });
 */
export async function pgdThroughput(model: Model, options: PgdThroughputOptions = {}): Promise<PgdThroughput> {
  const { batch = 32, steps = 40, epsilon = 0.3, stepSize = 0.01, repeats = 1, seed = 0 } = options;
  const rng = new Rng(deriveSeed(seed, 'pgd-throughput'));
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(rng.uniformArray(batch * size, model.bounds.min, model.bounds.max), [batch, ...model.inputShape]);
  const y = tf.tensor1d(Array.from({ length: batch }, () => rng.int(model.numClasses)), 'int32');
  const attack = new Pgd({ norm: 'linf', epsilon, stepSize, steps, seed });
  try {
    const warm = await new Pgd({ norm: 'linf', epsilon, stepSize, steps: 1, seed }).generate(model, x, y);
    warm.dispose();
    const start = performance.now();
    for (let r = 0; r < repeats; r++) {
      const adversarial = await attack.generate(model, x, y);
      await adversarial.data();
      adversarial.dispose();
    }
    const seconds = (performance.now() - start) / 1000;
    const imagesPerSecond = (batch * repeats) / seconds;
    return { backend: tf.getBackend(), batch, steps, repeats, seconds, imagesPerSecond, gradientStepsPerSecond: imagesPerSecond * steps };
  } finally {
    x.dispose();
    y.dispose();
  }
}
