import { createOptimizer, defineParams } from '@tempered/core';
import type * as tf from '@tensorflow/tfjs';

/**
 * Optimiser settings shared by the methods of this package. Adam 1e-3 by default: at T = 20 plain
 * SGD sat at chance for 5+ epochs in a PyTorch reference on MNIST while Adam trained normally.
 * Each phase gets its own optimiser (its own Adam moments).
 */
export const OPTIMIZER_SETTINGS = defineParams({
  optimizer: { type: 'enum', values: ['adam', 'sgd', 'momentum'], default: 'adam', description: 'Optimiser of every phase' },
  learningRate: { type: 'number', default: 1e-3, greaterThan: 0, description: 'Learning rate' },
  momentum: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Momentum (optimizer = momentum only)' },
});

/** A fresh optimiser from validated settings; `owner` names the plugin in errors. */
export function optimizerFrom(
  owner: string,
  settings: { optimizer: 'adam' | 'sgd' | 'momentum'; learningRate: number; momentum: number },
): tf.Optimizer {
  return createOptimizer({ name: settings.optimizer, learningRate: settings.learningRate, momentum: settings.momentum }, owner);
}
