import * as tf from '@tensorflow/tfjs';
import { defineParams, klDivergence, softmaxAt, type Model, type Rng } from '@tempered/core';
import { INNER_MAX_PARAMS as SHARED_INNER_MAX_PARAMS, type InnerMaxSettings } from '@tempered/attacks';

export { createInnerAttack, type InnerMaxSettings } from '@tempered/attacks';

/**
 * Inner-maximisation parameters: @tempered/attacks' shared ones (MNIST defaults; CIFAR-10:
 * ε 8/255, step 2/255, 10 steps) plus the choice of objective.
 */
export const INNER_MAX_PARAMS = defineParams({
  innerLoss: {
    type: 'enum',
    values: ['ce', 'kl'],
    default: 'ce',
    description: "What x′ maximises: 'ce' = CE(S(x′), y) via the named inner attack (as ARD); 'kl' = KL(softmax(T(x)) ‖ softmax(S(x′)))",
  },
  ...SHARED_INNER_MAX_PARAMS,
});

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
