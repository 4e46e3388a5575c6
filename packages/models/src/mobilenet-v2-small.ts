import * as tf from '@tensorflow/tfjs';
import { FEATURES_LAYER, defineParams, type ParamValues } from '@tempered/core';
import { LayerInit, imageInput, splitOptions, type ArchitectureOptions } from './common.js';

export const MOBILENET_V2_SMALL_PARAMS = defineParams({
  widthMultiplier: { type: 'number', default: 1, greaterThan: 0, max: 4, description: 'α: scales every block width (rounded to a multiple of 8, as in the paper)' },
  expansion: { type: 'number', default: 6, integer: true, min: 1, max: 12, description: 'Expansion factor t of the inverted residual blocks (the first block uses 1)' },
  headChannels: { type: 'number', default: 256, integer: true, min: 8, description: 'Width of the final 1×1 conv before pooling (the paper\'s 1280, reduced for small inputs)' },
  batchNormMomentum: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Moving-average momentum of batch-norm statistics' },
});

export type MobilenetV2SmallParams = ParamValues<typeof MOBILENET_V2_SMALL_PARAMS>;

/** Block settings (t = expansion or 1, c = output channels, n = repeats, s = first stride), reduced for 28–32 px inputs. */
const BLOCKS: ReadonlyArray<{ expand: boolean; channels: number; repeats: number; stride: number }> = [
  { expand: false, channels: 16, repeats: 1, stride: 1 },
  { expand: true, channels: 24, repeats: 2, stride: 2 },
  { expand: true, channels: 32, repeats: 2, stride: 2 },
  { expand: true, channels: 64, repeats: 2, stride: 2 },
  { expand: true, channels: 96, repeats: 1, stride: 1 },
];

/** Rounds to the nearest multiple of `divisor`, never below 90% of the value (MobileNetV2's `_make_divisible`). */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/**
 * A MobileNetV2-style student (Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted
 * Residuals and Linear Bottlenecks", CVPR 2018) sized for 28–32 px inputs: conv3×3·32α (stride 1)
 * → BN → ReLU6, then inverted residual blocks (t, c, n, s) = (1, 16, 1, 1), (t, 24, 2, 2),
 * (t, 32, 2, 2), (t, 64, 2, 2), (t, 96, 1, 1): 1×1 expansion → BN → ReLU6 → depthwise 3×3 →
 * BN → ReLU6 → 1×1 linear bottleneck → BN, with an identity shortcut when stride is 1 and widths
 * match; then 1×1 conv·`headChannels` → BN → ReLU6 → global average pooling (`features`) →
 * dense (logits). Standard tfjs layers only; He-normal kernels seeded from `seed`.
 *
 * Parameters: `widthMultiplier` α (1), `expansion` t (6), `headChannels` (256),
 * `batchNormMomentum` (0.9).
 *
 * Shapes: input [batch, H, W, C] with H, W ≥ 8; logits [batch, numClasses]; features
 * [batch, headChannels]. 32×32×3 at defaults: 217,738 parameters (7,488 non-trainable BN statistics).
 *
 * @example
 * ```ts
 * const model = mobilenetV2Small({ inputShape: [32, 32, 3], numClasses: 10, seed: 0, widthMultiplier: 0.5 });
 * ```
 */
export function mobilenetV2Small(options: ArchitectureOptions & Partial<MobilenetV2SmallParams>): tf.LayersModel {
  const { common, params } = splitOptions('mobilenet-v2-small', MOBILENET_V2_SMALL_PARAMS, options);
  const inputShape = imageInput('mobilenet-v2-small', common.inputShape, 8);
  const init = new LayerInit(common.seed);
  const bn = (name: string) => tf.layers.batchNormalization({ name, momentum: params.batchNormMomentum, epsilon: 1e-3 });
  const relu6 = (name: string) => tf.layers.reLU({ name, maxValue: 6 });
  const pointwise = (name: string, filters: number) =>
    tf.layers.conv2d({ name, filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init.he(name) });

  const input = tf.input({ shape: inputShape, name: 'input' });
  let channels = makeDivisible(32 * params.widthMultiplier);
  let x = tf.layers
    .conv2d({ name: 'stem_conv', filters: channels, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init.he('stem_conv') })
    .apply(input) as tf.SymbolicTensor;
  x = bn('stem_bn').apply(x) as tf.SymbolicTensor;
  x = relu6('stem_relu6').apply(x) as tf.SymbolicTensor;
  let index = 0;
  for (const setting of BLOCKS) {
    const out = makeDivisible(setting.channels * params.widthMultiplier);
    for (let r = 0; r < setting.repeats; r++) {
      const prefix = `block${++index}`;
      const stride = r === 0 ? setting.stride : 1;
      let y = x;
      if (setting.expand && params.expansion > 1) {
        y = pointwise(`${prefix}_expand`, channels * params.expansion).apply(y) as tf.SymbolicTensor;
        y = bn(`${prefix}_expand_bn`).apply(y) as tf.SymbolicTensor;
        y = relu6(`${prefix}_expand_relu6`).apply(y) as tf.SymbolicTensor;
      }
      y = tf.layers
        .depthwiseConv2d({
          name: `${prefix}_depthwise`,
          kernelSize: 3,
          strides: stride,
          padding: 'same',
          useBias: false,
          depthwiseInitializer: init.he(`${prefix}_depthwise`),
        })
        .apply(y) as tf.SymbolicTensor;
      y = bn(`${prefix}_depthwise_bn`).apply(y) as tf.SymbolicTensor;
      y = relu6(`${prefix}_depthwise_relu6`).apply(y) as tf.SymbolicTensor;
      // Linear bottleneck: no activation after the projection.
      y = pointwise(`${prefix}_project`, out).apply(y) as tf.SymbolicTensor;
      y = bn(`${prefix}_project_bn`).apply(y) as tf.SymbolicTensor;
      x = stride === 1 && channels === out ? (tf.layers.add({ name: `${prefix}_add` }).apply([x, y]) as tf.SymbolicTensor) : y;
      channels = out;
    }
  }
  x = pointwise('head_conv', params.headChannels).apply(x) as tf.SymbolicTensor;
  x = bn('head_bn').apply(x) as tf.SymbolicTensor;
  x = relu6('head_relu6').apply(x) as tf.SymbolicTensor;
  const features = tf.layers.globalAveragePooling2d({ name: FEATURES_LAYER }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ name: 'logits', units: common.numClasses, kernelInitializer: init.glorot('logits') }).apply(features) as tf.SymbolicTensor;
  return tf.model({ name: common.name, inputs: input, outputs: logits });
}
