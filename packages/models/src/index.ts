/**
 * @tempered/models: model architectures as core `ModelArchitecture` plugins. Every model is a
 * standard tfjs-layers model (no custom layers, so the saved format loads anywhere) whose single
 * output is logits and whose layer named `features` gives the penultimate features.
 * @packageDocumentation
 */
export { register, buildModel } from './register.js';
export { papernotMnistCnn, PAPERNOT_MNIST_PARAMS } from './papernot-mnist.js';
export type { PapernotMnistParams } from './papernot-mnist.js';
export { papernotCifarCnn, PAPERNOT_CIFAR_PARAMS } from './papernot-cifar.js';
export type { PapernotCifarParams } from './papernot-cifar.js';
export { resnetSmall, RESNET_SMALL_PARAMS } from './resnet-small.js';
export type { ResnetSmallParams } from './resnet-small.js';
export { mobilenetV2Small, makeDivisible, MOBILENET_V2_SMALL_PARAMS } from './mobilenet-v2-small.js';
export type { MobilenetV2SmallParams } from './mobilenet-v2-small.js';
export { mlp, parseHiddenSizes, MLP_PARAMS } from './mlp.js';
export type { MlpParams } from './mlp.js';
export { LayersArchitecture, SeededDropoutStudent, LayerInit, toStudent } from './common.js';
export type { ArchitectureOptions, ArchitectureBuilder } from './common.js';
