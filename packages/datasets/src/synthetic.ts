import { inject, injectable } from 'tsyringe';
import {
  ArrayDataset,
  Rng,
  TOKENS,
  defineParams,
  deriveSeed,
  permutation,
  validateParams,
  type DatasetSource,
  type ParamValues,
} from '@tempered/core';
import type { ArrayDatasetSplits } from './files.js';

export const SYNTHETIC_PARAMS = defineParams({
  trainSize: { type: 'number', default: 512, integer: true, min: 1, description: 'Training examples' },
  testSize: { type: 'number', default: 128, integer: true, min: 1, description: 'Test examples' },
  numClasses: { type: 'number', default: 10, integer: true, min: 2, max: 1000, description: 'Number of classes' },
  height: { type: 'number', default: 28, integer: true, min: 1, description: 'Image height' },
  width: { type: 'number', default: 28, integer: true, min: 1, description: 'Image width' },
  channels: { type: 'number', default: 1, integer: true, min: 1, description: 'Image channels' },
  grid: { type: 'number', default: 4, integer: true, min: 1, description: 'Prototype resolution: each class prototype is a grid × grid pattern upsampled to the image' },
  noise: { type: 'number', default: 0.1, min: 0, description: 'Standard deviation of the Gaussian pixel noise around the class prototype' },
  seed: { type: 'number', default: 0, integer: true, min: 0, description: 'Seed of the prototypes and of both splits' },
});

export type SyntheticParams = ParamValues<typeof SYNTHETIC_PARAMS>;

/**
 * Class prototypes: per class, a `grid × grid × channels` pattern of intensities in [0.1, 0.9]
 * upsampled (nearest) to `height × width`. Blocky patterns survive pooling, so conv nets and
 * MLPs both separate them.
 */
function prototypes(p: SyntheticParams): Float32Array[] {
  const rng = new Rng(deriveSeed(p.seed, 'synthetic', 'prototypes'));
  const out: Float32Array[] = [];
  for (let c = 0; c < p.numClasses; c++) {
    const cells = rng.uniformArray(p.grid * p.grid * p.channels, 0.1, 0.9);
    const image = new Float32Array(p.height * p.width * p.channels);
    for (let y = 0; y < p.height; y++) {
      const gy = Math.min(p.grid - 1, Math.floor((y * p.grid) / p.height));
      for (let x = 0; x < p.width; x++) {
        const gx = Math.min(p.grid - 1, Math.floor((x * p.grid) / p.width));
        for (let ch = 0; ch < p.channels; ch++) {
          image[(y * p.width + x) * p.channels + ch] = cells[(gy * p.grid + gx) * p.channels + ch]!;
        }
      }
    }
    out.push(image);
  }
  return out;
}

function sample(p: SyntheticParams, protos: Float32Array[], size: number, split: string): ArrayDataset {
  const rng = new Rng(deriveSeed(p.seed, 'synthetic', split));
  const featureSize = p.height * p.width * p.channels;
  // Balanced labels (i mod numClasses), in a seeded order.
  const order = permutation(size, rng);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) labels[i] = order[i]! % p.numClasses;
  const images = new Float32Array(size * featureSize);
  for (let i = 0; i < size; i++) {
    const proto = protos[labels[i]!]!;
    const base = i * featureSize;
    for (let j = 0; j < featureSize; j++) {
      const value = proto[j]! + p.noise * rng.normal();
      images[base + j] = value < 0 ? 0 : value > 1 ? 1 : value;
    }
  }
  return new ArrayDataset(`synthetic:${split}`, images, labels, [p.height, p.width, p.channels], p.numClasses);
}

/** Generates seeded synthetic splits (see {@link SyntheticSource}); `params` are validated. */
export function syntheticSplits(params: Partial<SyntheticParams> = {}): ArrayDatasetSplits {
  const p = validateParams('synthetic', SYNTHETIC_PARAMS, params);
  const protos = prototypes(p);
  return { name: 'synthetic', train: sample(p, protos, p.trainSize, 'train'), test: sample(p, protos, p.testSize, 'test') };
}

/**
 * A seeded, class-separable image generator for tests and smoke runs. Each class has a
 * prototype (a random `grid × grid` pattern in [0.1, 0.9], upsampled); an example is its
 * class prototype plus N(0, noise²) pixel noise, clipped to [0, 1]. Labels are balanced.
 * Train and test draw from independent streams derived from `seed`; the same parameters give
 * bit-identical data.
 *
 * Parameters: `trainSize` (512), `testSize` (128), `numClasses` (10), `height` (28),
 * `width` (28), `channels` (1), `grid` (4), `noise` (0.1), `seed` (0).
 *
 * Shapes: images [height, width, channels] float32 in [0, 1]; labels int32 in [0, numClasses).
 *
 * @example
 * ```ts
 * const { train } = await createPlugin(container, TOKENS.Dataset, 'synthetic', { height: 32, width: 32, channels: 3, seed: 7 }).load();
 * ```
 */
@injectable()
export class SyntheticSource implements DatasetSource {
  readonly name = 'synthetic';
  readonly params: SyntheticParams;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown> = {}) {
    this.params = validateParams('synthetic', SYNTHETIC_PARAMS, params);
  }

  async load(): Promise<ArrayDatasetSplits> {
    return syntheticSplits(this.params);
  }
}
