import * as tf from '@tensorflow/tfjs';
import { defineParams, type ParamValues } from '@tempered/core';
import { imageInput, splitOptions, type ArchitectureOptions } from './common.js';
import { papernotCnn } from './papernot-cnn.js';

export const PAPERNOT_MNIST_PARAMS = defineParams({
  widthMultiplier: { type: 'number', default: 1, greaterThan: 0, max: 8, description: 'Scales every conv and dense width (1: the paper\'s 32-32-64-64 / 200-200)' },
  dropout: { type: 'number', default: 0, min: 0, max: 0.95, description: 'Dropout rate after each hidden dense layer (the paper trains with 0.5); seeded' },
});

export type PapernotMnistParams = ParamValues<typeof PAPERNOT_MNIST_PARAMS>;

/**
 * The MNIST CNN of defensive distillation (Papernot, McDaniel, Wu, Jha & Swami, "Distillation
 * as a Defense to Adversarial Perturbations against Deep Neural Networks", IEEE S&P 2016,
 * Table I): conv3×3·32 → conv3×3·32 → maxpool2 → conv3×3·64 → conv3×3·64 → maxpool2 →
 * flatten → dense200 → dense200 (`features`, after ReLU) → dense`numClasses` (logits, no
 * softmax). ReLU everywhere, valid padding; He-normal kernels, Glorot-uniform logits, zero
 * biases, all seeded from `seed`.
 *
 * Parameters: `widthMultiplier` (1), `dropout` (0; the paper used 0.5).
 *
 * Shapes: input [batch, H, W, C] with H, W ≥ 12 (e.g. [28, 28, 1]); logits [batch, numClasses];
 * features [batch, 200·widthMultiplier]. 28×28×1 at defaults: 312,202 parameters.
 *
 * @example
 * ```ts
 * const model = papernotMnistCnn({ inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
 * const logits = model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor2D; // [2, 10]
 * ```
 */
export function papernotMnistCnn(options: ArchitectureOptions & Partial<PapernotMnistParams>): tf.LayersModel {
  const { common, params } = splitOptions('papernot-mnist', PAPERNOT_MNIST_PARAMS, options);
  const inputShape = imageInput('papernot-mnist', common.inputShape, 12);
  return papernotCnn(common.name, inputShape, common.numClasses, common.seed, { conv: [32, 64], dense: 200 }, params);
}
