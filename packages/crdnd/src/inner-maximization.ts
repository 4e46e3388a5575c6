import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, defineParams, getPlugin, klDivergence, softmaxAt, type Attack, type Model, type Rng } from '@tempered/core';

/**
 * Inner-maximisation parameters (MNIST defaults, as in @tempered/ard; CIFAR-10: ε 8/255,
 * step 2/255, 10 steps). Kept local rather than imported so plugins depend on core only.
 */
export const INNER_MAX_PARAMS = defineParams({
  innerLoss: {
    type: 'enum',
    values: ['ce', 'kl'],
    default: 'ce',
    description: "What x′ maximises: 'ce' = CE(S(x′), y) via the named inner attack (as ARD); 'kl' = KL(softmax(T(x)) ‖ softmax(S(x′)))",
  },
  innerAttack: { type: 'string', default: 'pgd', description: "Registered attack (TOKENS.Attack) used when innerLoss is 'ce'" },
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'Norm of the perturbation budget' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'Perturbation budget ε (MNIST; CIFAR-10: 8/255)' },
  stepSize: { type: 'number', default: 0.05, greaterThan: 0, description: 'PGD step size (MNIST; CIFAR-10: 2/255)' },
  steps: { type: 'number', default: 10, integer: true, min: 1, description: 'PGD iterations' },
  randomStart: { type: 'boolean', default: true, description: 'Start from a random point in the ε-ball' },
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
 * Resolves the inner attack by name; PGD's parameters are offered and only those the attack
 * declares are passed, so another registered attack can be swapped in by name.
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
    // Training uses the final, loss-maximising iterate (Madry et al.; ARD code).
    keepSuccessful: false,
  };
  const declared = descriptor.params;
  const params = declared ? Object.fromEntries(Object.entries(offered).filter(([key]) => key in declared)) : offered;
  return descriptor.create(params, container);
}

/**
 * PGD on the student (inference mode) maximising KL(softmax(teacherLogits) ‖ softmax(S(x′))) at
 * temperature 1, the TRADES/RSLAD-style inner objective. Random start: uniform in the L∞ ball,
 * or 0.001·N(0, I) for L2 (TRADES), drawn from `rng`. Returns x′; the caller disposes it.
 */
export function klPgd(student: Model, teacherLogits: tf.Tensor2D, x: tf.Tensor, settings: InnerMaxSettings, rng: Rng): tf.Tensor {
  const { norm, epsilon, stepSize, steps, randomStart } = settings;
  const { min, max } = student.bounds;
  const targets = softmaxAt(teacherLogits);
  const gradient = tf.grad((input: tf.Tensor) => klDivergence(targets, student.logits(input)));
  let adversarial = tf.tidy(() => {
    if (!randomStart) return x.clone();
    const noise =
      norm === 'linf' ? rng.uniformArray(x.size, -epsilon, epsilon) : rng.normalArray(x.size).map((v) => 0.001 * v);
    return tf.clipByValue(tf.add(x, tf.tensor(noise, x.shape)), min, max);
  });
  for (let i = 0; i < steps; i++) {
    const next = tf.tidy(() => {
      const g = gradient(adversarial);
      const perExample = [g.shape[0]!, ...g.shape.slice(1).map(() => 1)];
      let delta: tf.Tensor;
      if (norm === 'linf') {
        delta = tf.clipByValue(tf.sub(tf.add(adversarial, tf.mul(tf.sign(g), stepSize)), x), -epsilon, epsilon);
      } else {
        const gNorm = tf.reshape(tf.maximum(tf.norm(tf.reshape(g, [g.shape[0]!, -1]), 2, 1), 1e-12), perExample);
        const moved = tf.sub(tf.add(adversarial, tf.mul(tf.div(g, gNorm), stepSize)), x);
        const movedNorm = tf.reshape(tf.norm(tf.reshape(moved, [moved.shape[0]!, -1]), 2, 1), perExample);
        delta = tf.mul(moved, tf.minimum(1, tf.div(epsilon, tf.maximum(movedNorm, 1e-12))));
      }
      return tf.clipByValue(tf.add(x, delta), min, max);
    });
    adversarial.dispose();
    adversarial = next;
  }
  targets.dispose();
  return adversarial;
}
