import type * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, defineParams, getPlugin, type Attack, type Model, type Rng } from '@tempered/core';

/**
 * Parameters of the inner maximisation of adversarial training and robust distillation (PGD-AT,
 * ARD, CRDND). Defaults are for MNIST in [0, 1] (Madry et al. 2018 use ε = 0.3 with 40 steps of
 * 0.01; 10 steps of 0.05 let the walk, 0.5, still cross the ε-ball). Goldblum et al.'s CIFAR-10
 * values are ε = 8/255, step 2/255, 10 steps.
 */
export const INNER_MAX_PARAMS = defineParams({
  innerAttack: {
    type: 'string',
    default: 'pgd',
    description: 'Name of the registered attack (TOKENS.Attack) that crafts x′ on the student',
  },
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'Norm of the perturbation budget' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'Perturbation budget ε (MNIST; CIFAR-10: 8/255)' },
  stepSize: { type: 'number', default: 0.05, greaterThan: 0, description: 'PGD step size (MNIST; CIFAR-10: 2/255)' },
  steps: { type: 'number', default: 10, integer: true, min: 1, description: 'PGD iterations' },
  randomStart: { type: 'boolean', default: true, description: 'Start from a uniform random point in the ε-ball' },
});

export interface InnerMaxSettings {
  readonly innerAttack: string;
  readonly norm: 'linf' | 'l2';
  readonly epsilon: number;
  readonly stepSize: number;
  readonly steps: number;
  readonly randomStart: boolean;
}

/**
 * Resolves the training-time inner attack by name from the run's container. PGD's parameters are
 * offered and only those the attack declares are passed, so any registered attack can be swapped
 * in by name (e.g. `fgsm` receives ε, not `steps`). The objective is cross-entropy against the
 * hard labels, and the final (loss-maximising) iterate is kept, as in Madry et al. and the ARD
 * code, not the evaluation-time "last successful iterate".
 *
 * @example
 * const attack = createInnerAttack(container, { innerAttack: 'pgd', norm: 'linf', epsilon: 0.3, stepSize: 0.05, steps: 10, randomStart: true });
 */
export function createInnerAttack(container: DependencyContainer, settings: InnerMaxSettings): Attack {
  const descriptor = getPlugin(container, TOKENS.Attack, settings.innerAttack);
  const offered: Record<string, unknown> = {
    norm: settings.norm,
    epsilon: settings.epsilon,
    stepSize: settings.stepSize,
    steps: settings.steps,
    randomStart: settings.randomStart,
    loss: 'ce',
    keepSuccessful: false,
  };
  const declared = descriptor.params;
  const params = declared ? Object.fromEntries(Object.entries(offered).filter(([key]) => key in declared)) : offered;
  return descriptor.create(params, container);
}

/**
 * x′ = attack(student, x, y), crafted with the student in inference mode (attacks call
 * `logits(x)` with training off): attack iterations neither update batch-norm statistics nor see a
 * fresh dropout mask per step. The seed comes from the trainer's per-step stream, so one run seed
 * gives the same random starts. The caller disposes the result.
 */
export function craftAdversarial(attack: Attack, student: Model, x: tf.Tensor, labels: tf.Tensor1D, rng: Rng): Promise<tf.Tensor> {
  return attack.generate(student, x, labels, { seed: rng.seed() });
}
