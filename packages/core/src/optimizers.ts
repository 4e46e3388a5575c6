import * as tf from '@tensorflow/tfjs';
import { defineParams, validateParams, type ParamValues } from './params.js';

/**
 * Optimiser settings. The default is Adam 1e-3: at temperature T = 20 plain SGD (lr 0.01–0.1,
 * momentum 0.9) sat at chance for 5+ epochs in a PyTorch reference on MNIST, while Adam trained.
 */
export const OPTIMIZER_PARAMS = defineParams({
  name: { type: 'enum', values: ['adam', 'sgd', 'momentum'], default: 'adam', description: 'Optimiser' },
  learningRate: { type: 'number', default: 1e-3, greaterThan: 0, description: 'Learning rate' },
  momentum: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Momentum (momentum optimiser only)' },
  beta1: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Adam β1' },
  beta2: { type: 'number', default: 0.999, min: 0, max: 1, description: 'Adam β2' },
});

export type OptimizerConfig = ParamValues<typeof OPTIMIZER_PARAMS>;

/** Creates a tfjs optimiser from a (partial, validated) config. */
export function createOptimizer(config: Partial<OptimizerConfig> = {}, field = 'optimizer'): tf.Optimizer {
  const c = validateParams(field, OPTIMIZER_PARAMS, config);
  switch (c.name) {
    case 'sgd':
      return tf.train.sgd(c.learningRate);
    case 'momentum': {
      const optimizer = tf.train.momentum(c.learningRate, c.momentum);
      // tfjs 4.22's MomentumOptimizer.dispose() skips SGDOptimizer's learning-rate scalar `c`,
      // leaking one tensor per optimiser; release it too.
      const dispose = optimizer.dispose.bind(optimizer);
      optimizer.dispose = () => {
        dispose();
        const rate = (optimizer as unknown as { c?: tf.Tensor }).c;
        if (rate && !rate.isDisposed) rate.dispose();
      };
      return optimizer;
    }
    case 'adam':
      return tf.train.adam(c.learningRate, c.beta1, c.beta2);
  }
}
