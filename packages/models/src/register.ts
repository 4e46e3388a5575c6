import type { DependencyContainer } from 'tsyringe';
import {
  TOKENS,
  createPlugin,
  factoryPlugin,
  registerPlugin,
  type ModelBuildOptions,
  type ParamSpecs,
  type Student,
} from '@tempered/core';
import { LayersArchitecture, type ArchitectureBuilder } from './common.js';
import { MLP_PARAMS, mlp } from './mlp.js';
import { MOBILENET_V2_SMALL_PARAMS, mobilenetV2Small } from './mobilenet-v2-small.js';
import { PAPERNOT_CIFAR_PARAMS, papernotCifarCnn } from './papernot-cifar.js';
import { PAPERNOT_MNIST_PARAMS, papernotMnistCnn } from './papernot-mnist.js';
import { RESNET_SMALL_PARAMS, resnetSmall } from './resnet-small.js';

function architecture<S extends ParamSpecs>(name: string, description: string, spec: S, builder: ArchitectureBuilder<S>) {
  return factoryPlugin(name, (params) => new LayersArchitecture(name, spec, params, builder), { description, params: spec });
}

/**
 * Registers every architecture under {@link TOKENS.Model}: papernot-mnist, papernot-cifar,
 * resnet-small, mobilenet-v2-small, mlp.
 */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Model, architecture('papernot-mnist', 'Defensive-distillation MNIST CNN (Papernot et al. 2016)', PAPERNOT_MNIST_PARAMS, papernotMnistCnn));
  registerPlugin(container, TOKENS.Model, architecture('papernot-cifar', 'Defensive-distillation CIFAR-10 CNN (Papernot et al. 2016)', PAPERNOT_CIFAR_PARAMS, papernotCifarCnn));
  registerPlugin(container, TOKENS.Model, architecture('resnet-small', 'CIFAR-style ResNet-(6n+2) with BN, projection shortcuts and global average pooling (He et al. 2016)', RESNET_SMALL_PARAMS, resnetSmall));
  registerPlugin(container, TOKENS.Model, architecture('mobilenet-v2-small', 'MobileNetV2-style student: inverted residuals, depthwise conv, ReLU6, linear bottlenecks (Sandler et al. 2018)', MOBILENET_V2_SMALL_PARAMS, mobilenetV2Small));
  registerPlugin(container, TOKENS.Model, architecture('mlp', 'Multilayer perceptron with ReLU hidden layers', MLP_PARAMS, mlp as ArchitectureBuilder<typeof MLP_PARAMS>));
}

/** Builds a fresh student of the architecture registered as `name`, with its `params`. */
export function buildModel(
  container: DependencyContainer,
  name: string,
  options: ModelBuildOptions,
  params?: Record<string, unknown>,
): Student {
  return createPlugin(container, TOKENS.Model, name, params).build(options);
}
