import * as tf from '@tensorflow/tfjs';
import { ConfigError, FEATURES_LAYER, defineParams, type ParamValues } from '@tempered/core';
import { LayerInit, splitOptions, type ArchitectureOptions } from './common.js';

export const MLP_PARAMS = defineParams({
  hiddenSizes: { type: 'string', default: '256,128', description: 'Comma-separated hidden layer widths; the last hidden layer is `features`' },
  dropout: { type: 'number', default: 0, min: 0, max: 0.95, description: 'Dropout rate after each hidden layer; seeded' },
});

export type MlpParams = ParamValues<typeof MLP_PARAMS>;

/** Parses "256,128" into [256, 128]; anything else is a ConfigError naming `mlp.hiddenSizes`. */
export function parseHiddenSizes(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const sizes = parts.map(Number);
  if (parts.length === 0 || parts.some((p) => p === '') || !sizes.every((n) => Number.isInteger(n) && n > 0)) {
    throw new ConfigError('mlp.hiddenSizes', `expected comma-separated positive integers such as "256,128", got ${JSON.stringify(text)}`);
  }
  return sizes;
}

/**
 * A multilayer perceptron: flatten → dense·h₁ → … → dense·h_k (`features`) → dense`numClasses`
 * (logits), ReLU hidden units, optional seeded dropout after each hidden layer. He-normal
 * hidden kernels, Glorot-uniform logits, seeded from `seed`.
 *
 * Parameters: `hiddenSizes` ('256,128'; the plain function also takes an array), `dropout` (0).
 *
 * Shapes: input [batch, ...inputShape] (any rank); logits [batch, numClasses]; features
 * [batch, h_k]. 28×28×1 at defaults: 235,146 parameters.
 *
 * @example
 * ```ts
 * const model = mlp({ inputShape: [28, 28, 1], numClasses: 10, seed: 3, hiddenSizes: [512, 256] });
 * ```
 */
export function mlp(options: ArchitectureOptions & Partial<Omit<MlpParams, 'hiddenSizes'>> & { hiddenSizes?: string | readonly number[] }): tf.LayersModel {
  const { hiddenSizes, ...rest } = options;
  const text = Array.isArray(hiddenSizes) ? hiddenSizes.join(',') : (hiddenSizes as string | undefined);
  const { common, params } = splitOptions('mlp', MLP_PARAMS, { ...rest, hiddenSizes: text });
  if (common.inputShape.length === 0 || !common.inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ConfigError('mlp.inputShape', `expected positive integer dimensions, got [${common.inputShape.join(', ')}]`);
  }
  const sizes = parseHiddenSizes(params.hiddenSizes);
  const init = new LayerInit(common.seed);
  const input = tf.input({ shape: [...common.inputShape], name: 'input' });
  let x = tf.layers.flatten({ name: 'flatten' }).apply(input) as tf.SymbolicTensor;
  sizes.forEach((units, i) => {
    const name = i === sizes.length - 1 ? FEATURES_LAYER : `fc${i + 1}`;
    x = tf.layers.dense({ name, units, activation: 'relu', kernelInitializer: init.he(name) }).apply(x) as tf.SymbolicTensor;
    if (params.dropout > 0) {
      x = tf.layers.dropout({ name: `dropout${i + 1}`, rate: params.dropout, seed: init.dropoutSeed(`dropout${i + 1}`) }).apply(x) as tf.SymbolicTensor;
    }
  });
  const logits = tf.layers.dense({ name: 'logits', units: common.numClasses, kernelInitializer: init.glorot('logits') }).apply(x) as tf.SymbolicTensor;
  return tf.model({ name: common.name, inputs: input, outputs: logits });
}
