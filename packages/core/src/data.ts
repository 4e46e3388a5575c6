import * as tf from '@tensorflow/tfjs';
import { DatasetError } from './errors.js';
import type { Dataset } from './types.js';

/**
 * A dataset held as flat arrays: `images` is [size × prod(inputShape)] float32 in [0, 1],
 * `labels` int32 in [0, numClasses). Batches are gathered on demand, so memory stays one copy.
 */
export class ArrayDataset implements Dataset {
  readonly size: number;
  private readonly featureSize: number;

  constructor(
    readonly name: string,
    readonly images: Float32Array,
    readonly labels: Int32Array,
    readonly inputShape: readonly number[],
    readonly numClasses: number,
  ) {
    this.featureSize = inputShape.reduce((a, b) => a * b, 1);
    this.size = labels.length;
    if (images.length !== this.size * this.featureSize) {
      throw new DatasetError(name, `expected ${this.size} × ${this.featureSize} pixel values, got ${images.length}`);
    }
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      if (!(label >= 0 && label < numClasses)) {
        throw new DatasetError(name, `label ${label} of example ${i} is outside [0, ${numClasses})`);
      }
    }
  }

  batch(indices: ArrayLike<number>): { x: tf.Tensor; labels: tf.Tensor1D } {
    const n = indices.length;
    const pixels = new Float32Array(n * this.featureSize);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const index = indices[i]!;
      if (!(index >= 0 && index < this.size)) throw new DatasetError(this.name, `index ${index} is outside [0, ${this.size})`);
      pixels.set(this.images.subarray(index * this.featureSize, (index + 1) * this.featureSize), i * this.featureSize);
      labels[i] = this.labels[index]!;
    }
    return { x: tf.tensor(pixels, [n, ...this.inputShape], 'float32'), labels: tf.tensor1d(labels, 'int32') };
  }

  slice(start: number, count: number): ArrayDataset {
    const end = Math.min(this.size, start + count);
    return new ArrayDataset(
      this.name,
      this.images.subarray(start * this.featureSize, end * this.featureSize),
      this.labels.subarray(start, end),
      this.inputShape,
      this.numClasses,
    );
  }

  /** Examples at `indices`, copied into a new dataset. */
  subset(indices: ArrayLike<number>, name = this.name): ArrayDataset {
    const images = new Float32Array(indices.length * this.featureSize);
    const labels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i]!;
      images.set(this.images.subarray(index * this.featureSize, (index + 1) * this.featureSize), i * this.featureSize);
      labels[i] = this.labels[index]!;
    }
    return new ArrayDataset(name, images, labels, this.inputShape, this.numClasses);
  }
}

/**
 * Batches per epoch for a training set of `size` examples: the trainer keeps the last, short batch.
 *
 * @example
 * ```ts
 * batchesPerEpoch(8000, 128); // 63: 62 full batches and one of 64
 * const schedule = new EpsilonSchedule(params, batchesPerEpoch(train.size, batchSize));
 * ```
 */
export function batchesPerEpoch(size: number, batchSize: number): number {
  return Math.max(1, Math.ceil(size / batchSize));
}

/** Consecutive batches of `batchSize` over `order` (the last may be smaller). */
export function* batchIndices(order: Int32Array, batchSize: number): Generator<Int32Array> {
  for (let start = 0; start < order.length; start += batchSize) yield order.subarray(start, start + batchSize);
}
