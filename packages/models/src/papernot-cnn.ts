import * as tf from '@tensorflow/tfjs';
import { FEATURES_LAYER } from '@tempered/core';
import { LayerInit, scaled } from './common.js';

/** Widths of the Papernot et al. (2016) CNN family: two conv blocks of two 3×3 convs, two dense. */
export interface PapernotWidths {
  readonly conv: readonly [number, number];
  readonly dense: number;
}

/**
 * The defensive-distillation paper's CNN layout (Table I), shared by its MNIST and CIFAR-10
 * networks: conv·a → conv·a → maxpool2 → conv·b → conv·b → maxpool2 → flatten → dense·d →
 * dense·d (`features`) → logits. ReLU, valid padding, He-normal kernels, Glorot-uniform logits,
 * optional seeded dropout after each hidden dense layer.
 */
export function papernotCnn(
  name: string,
  inputShape: number[],
  numClasses: number,
  seed: number,
  widths: PapernotWidths,
  params: { readonly widthMultiplier: number; readonly dropout: number },
): tf.LayersModel {
  const init = new LayerInit(seed);
  const w = (n: number) => scaled(n, params.widthMultiplier);
  const conv = (layer: string, filters: number) =>
    tf.layers.conv2d({ name: layer, filters: w(filters), kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: init.he(layer) });
  const dense = (layer: string, units: number) =>
    tf.layers.dense({ name: layer, units: w(units), activation: 'relu', kernelInitializer: init.he(layer) });
  const dropout = (x: tf.SymbolicTensor, layer: string) =>
    params.dropout > 0 ? (tf.layers.dropout({ name: layer, rate: params.dropout, seed: init.dropoutSeed(layer) }).apply(x) as tf.SymbolicTensor) : x;

  const input = tf.input({ shape: inputShape, name: 'input' });
  let x = conv('conv1', widths.conv[0]).apply(input) as tf.SymbolicTensor;
  x = conv('conv2', widths.conv[0]).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = conv('conv3', widths.conv[1]).apply(x) as tf.SymbolicTensor;
  x = conv('conv4', widths.conv[1]).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = dropout(dense('fc1', widths.dense).apply(x) as tf.SymbolicTensor, 'dropout1');
  x = dropout(dense(FEATURES_LAYER, widths.dense).apply(x) as tf.SymbolicTensor, 'dropout2');
  const logits = tf.layers.dense({ name: 'logits', units: numClasses, kernelInitializer: init.glorot('logits') }).apply(x) as tf.SymbolicTensor;
  return tf.model({ name, inputs: input, outputs: logits });
}
