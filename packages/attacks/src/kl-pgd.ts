import * as tf from '@tensorflow/tfjs';
import { klDivergencePerExample, softmaxAt, type Model, type Rng } from '@tempered/core';
import { projectToBall, sampleBall } from './pgd.js';
import { l2Norms, perExample } from './tensors.js';

/** Budget and walk of a KL inner maximisation (ε and step size already scheduled). */
export interface KlPgdSettings {
  readonly norm: 'linf' | 'l2';
  readonly epsilon: number;
  readonly stepSize: number;
  readonly steps: number;
  readonly randomStart: boolean;
}

export interface KlPgdOptions {
  /**
   * Random start: 'uniform' in the ε-ball (Madry et al.), or 'gaussian', x + 0.001·N(0, I)
   * (TRADES, Zhang et al. 2019, both norms). Default: 'uniform' for L∞, 'gaussian' for L2.
   */
  readonly start?: 'uniform' | 'gaussian';
}

/**
 * PGD maximising Σᵢ KL(softmax(targetLogitsᵢ) ‖ softmax(model(x′ᵢ))) over the ε-ball around x,
 * the inner problem of TRADES (targets = the model's own clean logits) and of CRDND's
 * `innerLoss: 'kl'` (targets = the teacher's). Steps follow the sign of the gradient (L∞) or
 * the L2-normalised gradient (L2), each followed by projection onto the ball ∩ input bounds.
 * The sum over the batch is what is ascended (TRADES' `KLDivLoss(size_average=False)`); with
 * sign or normalised steps the reduction does not change x′. The model is called as given
 * (pass a training-mode view for `net.train()` behaviour). Returns x′; the caller disposes it.
 *
 * Departures from the TRADES code: the Gaussian start is clipped into the input bounds before
 * the first step (theirs only after it); L2 takes plain normalised-gradient steps instead of
 * their SGD-on-δ with renormalisation.
 *
 * Shapes: x [batch, ...inputShape], targetLogits [batch, classes].
 *
 * @example
 * const xAdv = klPgd(student, cleanLogits, x, { norm: 'linf', epsilon: 0.3, stepSize: 0.01, steps: 40, randomStart: true }, rng, { start: 'gaussian' });
 */
export function klPgd(model: Model, targetLogits: tf.Tensor2D, x: tf.Tensor, settings: KlPgdSettings, rng: Rng, options: KlPgdOptions = {}): tf.Tensor {
  const { norm, epsilon, stepSize, steps, randomStart } = settings;
  const bounds = model.bounds;
  const start = options.start ?? (norm === 'linf' ? 'uniform' : 'gaussian');
  const targets = softmaxAt(targetLogits); // constant: tf.grad differentiates x′ only
  const gradient = tf.grad((input: tf.Tensor) => tf.sum(klDivergencePerExample(targets, model.logits(input, { training: false }))));
  let adversarial = tf.tidy(() => {
    if (!randomStart || epsilon === 0) return x.clone();
    const noise = start === 'uniform' ? sampleBall(x.shape, norm, epsilon, rng) : tf.tensor(rng.normalArray(x.size).map((v) => 0.001 * v), x.shape);
    return tf.clipByValue(tf.add(x, noise), bounds.min, bounds.max);
  });
  if (epsilon > 0) {
    for (let i = 0; i < steps; i++) {
      const next = tf.tidy(() => {
        const g = gradient(adversarial);
        const direction = norm === 'linf' ? tf.sign(g) : tf.div(g, perExample(tf.maximum(l2Norms(g), 1e-12) as tf.Tensor1D, g));
        return projectToBall(tf.add(adversarial, tf.mul(direction, stepSize)), x, norm, epsilon, bounds);
      });
      adversarial.dispose();
      adversarial = next;
    }
  }
  targets.dispose();
  return adversarial;
}
