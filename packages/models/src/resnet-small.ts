import * as tf from '@tensorflow/tfjs';
import { ConfigError, FEATURES_LAYER, defineParams, type ParamValues } from '@tempered/core';
import { LayerInit, imageInput, scaled, splitOptions, type ArchitectureOptions } from './common.js';

export const RESNET_SMALL_PARAMS = defineParams({
  depth: { type: 'number', default: 20, integer: true, min: 8, max: 110, description: 'Total weighted layers, 6n + 2 (8, 14, 20, 32, 44, 56, 110)' },
  widthMultiplier: { type: 'number', default: 1, greaterThan: 0, max: 8, description: 'Scales the stage widths 16-32-64' },
  batchNormMomentum: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Moving-average momentum of batch-norm statistics (0.9 = PyTorch momentum 0.1)' },
});

export type ResnetSmallParams = ParamValues<typeof RESNET_SMALL_PARAMS>;

/**
 * A CIFAR-style ResNet (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition",
 * CVPR 2016, §4.2): conv3×3·16 → BN → ReLU, then three stages of n = (depth − 2)/6 basic blocks
 * (conv3×3 → BN → ReLU → conv3×3 → BN, plus the shortcut, then ReLU) at widths 16, 32, 64 ×
 * `widthMultiplier`; stages 2 and 3 start with stride 2 and a 1×1-conv + BN projection shortcut
 * (option B, standard tfjs layers only). Global average pooling gives `features`; a dense layer
 * gives logits. Convs have no bias (BN follows); He-normal kernels, seeded from `seed`.
 *
 * Parameters: `depth` (20, must be 6n + 2), `widthMultiplier` (1), `batchNormMomentum` (0.9).
 *
 * Shapes: input [batch, H, W, C] with H, W ≥ 4; logits [batch, numClasses]; features
 * [batch, 64·widthMultiplier]. 32×32×3 at defaults (ResNet-20): 274,042 parameters (of which
 * 1,568 are non-trainable BN statistics).
 *
 * @example
 * ```ts
 * const model = resnetSmall({ inputShape: [32, 32, 3], numClasses: 10, seed: 0, depth: 8, widthMultiplier: 0.5 });
 * ```
 */
export function resnetSmall(options: ArchitectureOptions & Partial<ResnetSmallParams>): tf.LayersModel {
  const { common, params } = splitOptions('resnet-small', RESNET_SMALL_PARAMS, options);
  if ((params.depth - 2) % 6 !== 0) {
    throw new ConfigError('resnet-small.depth', `expected 6n + 2 (8, 14, 20, 32, 44, 56, 110), got ${params.depth}`);
  }
  const inputShape = imageInput('resnet-small', common.inputShape, 4);
  const blocksPerStage = (params.depth - 2) / 6;
  const init = new LayerInit(common.seed);
  const conv = (name: string, filters: number, kernelSize: number, strides: number) =>
    tf.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: init.he(name) });
  const bn = (name: string) => tf.layers.batchNormalization({ name, momentum: params.batchNormMomentum, epsilon: 1e-5 });
  const relu = (name: string) => tf.layers.activation({ name, activation: 'relu' });

  const input = tf.input({ shape: inputShape, name: 'input' });
  let x = conv('stem_conv', scaled(16, params.widthMultiplier), 3, 1).apply(input) as tf.SymbolicTensor;
  x = bn('stem_bn').apply(x) as tf.SymbolicTensor;
  x = relu('stem_relu').apply(x) as tf.SymbolicTensor;
  let channels = scaled(16, params.widthMultiplier);
  [16, 32, 64].forEach((baseWidth, stage) => {
    const width = scaled(baseWidth, params.widthMultiplier);
    for (let block = 0; block < blocksPerStage; block++) {
      const prefix = `stage${stage + 1}_block${block + 1}`;
      const strides = stage > 0 && block === 0 ? 2 : 1;
      let y = conv(`${prefix}_conv1`, width, 3, strides).apply(x) as tf.SymbolicTensor;
      y = bn(`${prefix}_bn1`).apply(y) as tf.SymbolicTensor;
      y = relu(`${prefix}_relu1`).apply(y) as tf.SymbolicTensor;
      y = conv(`${prefix}_conv2`, width, 3, 1).apply(y) as tf.SymbolicTensor;
      y = bn(`${prefix}_bn2`).apply(y) as tf.SymbolicTensor;
      let shortcut = x;
      if (strides !== 1 || channels !== width) {
        shortcut = conv(`${prefix}_proj`, width, 1, strides).apply(x) as tf.SymbolicTensor;
        shortcut = bn(`${prefix}_proj_bn`).apply(shortcut) as tf.SymbolicTensor;
      }
      x = tf.layers.add({ name: `${prefix}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
      x = relu(`${prefix}_out`).apply(x) as tf.SymbolicTensor;
      channels = width;
    }
  });
  const features = tf.layers.globalAveragePooling2d({ name: FEATURES_LAYER }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ name: 'logits', units: common.numClasses, kernelInitializer: init.glorot('logits') }).apply(features) as tf.SymbolicTensor;
  return tf.model({ name: common.name, inputs: input, outputs: logits });
}
