import * as tf from '@tensorflow/tfjs';
import { defineParams, type ParamValues } from '@tempered/core';
import { imageInput, splitOptions, type ArchitectureOptions } from './common.js';
import { papernotCnn } from './papernot-cnn.js';

export const PAPERNOT_CIFAR_PARAMS = defineParams({
  widthMultiplier: { type: 'number', default: 1, greaterThan: 0, max: 8, description: 'Scales every conv and dense width (1: the paper\'s 64-64-128-128 / 256-256)' },
  dropout: { type: 'number', default: 0, min: 0, max: 0.95, description: 'Dropout rate after each hidden dense layer (the paper trains with 0.5); seeded' },
});

export type PapernotCifarParams = ParamValues<typeof PAPERNOT_CIFAR_PARAMS>;

/**
 * The CIFAR-10 CNN of defensive distillation (Papernot et al., IEEE S&P 2016, Table I):
 * conv3×3·64 → conv3×3·64 → maxpool2 → conv3×3·128 → conv3×3·128 → maxpool2 → flatten →
 * dense256 → dense256 (`features`, after ReLU) → dense`numClasses` (logits). ReLU, valid
 * padding, optional seeded dropout after each hidden dense layer; He-normal kernels,
 * Glorot-uniform logits, all seeded from `seed`.
 *
 * Parameters: `widthMultiplier` (1), `dropout` (0; the paper used 0.5).
 *
 * Shapes: input [batch, H, W, C] with H, W ≥ 12 (e.g. [32, 32, 3]); logits [batch, numClasses];
 * features [batch, 256·widthMultiplier]. 32×32×3 at defaults: 1,147,978 parameters.
 *
 * @example
 * ```ts
 * const model = papernotCifarCnn({ inputShape: [32, 32, 3], numClasses: 10, seed: 1, dropout: 0.5 });
 * ```
 */
export function papernotCifarCnn(options: ArchitectureOptions & Partial<PapernotCifarParams>): tf.LayersModel {
  const { common, params } = splitOptions('papernot-cifar', PAPERNOT_CIFAR_PARAMS, options);
  const inputShape = imageInput('papernot-cifar', common.inputShape, 12);
  return papernotCnn(common.name, inputShape, common.numClasses, common.seed, { conv: [64, 128], dense: 256 }, params);
}
