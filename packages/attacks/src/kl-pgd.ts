import * as tf from '@tensorflow/tfjs';
import { klDivergencePerExample, softmaxAt, type Model, type Rng } from '@tempered/core';
import { objectiveWalk, type AscentStart, type WalkSettings } from './ascent.js';

/** Budget and walk of a KL inner maximisation (ε and step size already scheduled). */
export interface KlPgdSettings {
  readonly norm: 'linf' | 'l2';
  readonly epsilon: number;
  readonly stepSize: number;
  readonly steps: number;
  readonly randomStart: boolean;
}

/** Named arguments of {@link klPgd}. */
export interface KlPgdArgs {
  /** The model whose logits at x′ are scored against the target (TRADES: the student itself). */
  readonly model: Model;
  /** Fixed target logits [batch, classes], held constant during the walk (TRADES: the model's own clean logits; CRDND: the teacher's). */
  readonly targetLogits: tf.Tensor2D;
  /** Clean inputs x [batch, ...inputShape], the centre of the ε-ball. */
  readonly x: tf.Tensor;
  /** Budget and walk, ε and step size already scheduled. */
  readonly settings: KlPgdSettings;
  readonly rng: Rng;
  /**
   * Random start when `settings.randomStart`: 'uniform' in the ε-ball (Madry et al.), or 'gaussian',
   * x + 0.001·N(0, I) (TRADES, Zhang et al. 2019, both norms). Default: 'uniform' for L∞, 'gaussian' for L2.
   */
  readonly start?: 'uniform' | 'gaussian';
}

/** Named arguments of {@link klWalk}: the model being attacked and the target are easy to swap positionally (both may be models). */
export interface KlWalkArgs {
  /** The model whose logits at x′ move away from the target (the student). */
  readonly model: Model;
  /** What the KL is measured from: fixed logits [batch, classes] or a model evaluated at x′ (see {@link KlWalkTarget}). */
  readonly target: KlWalkTarget;
  /** Clean inputs x [batch, ...inputShape], the centre of the ε-ball. */
  readonly x: tf.Tensor;
  /** Norm, ε, step size, steps and start (`WALK_PARAMS` gives them; ε and step already scheduled). */
  readonly walk: WalkSettings;
  readonly rng: Rng;
}

/**
 * What a KL walk moves away from: fixed logits [batch, classes] (TRADES: the model's own clean
 * logits; RSLAD, CRDND: the teacher's on x), or a model evaluated at the iterate x′ itself
 * (AdaAD: the teacher joins the inner maximisation, and the gradient flows through it).
 */
export type KlWalkTarget = tf.Tensor2D | Model;

/**
 * PGD maximising Σᵢ KL(softmax(targetᵢ) ‖ softmax(model(x′ᵢ))) over the ε-ball around x, the
 * inner problem of TRADES, RSLAD and CRDND (fixed target logits) and of AdaAD (target = the
 * teacher, evaluated at x′: KL(T(x′) ‖ S(x′)), differentiated through both). The sum over the
 * batch is what is ascended (TRADES' `KLDivLoss(size_average=False)`, AdaAD's
 * `KLDivLoss(reduction='none').sum()`). Models are called as given, inference mode (pass a
 * training-mode view for `net.train()` behaviour). Returns x′; the caller disposes it.
 *
 * Departures from the authors' code: the Gaussian start is clipped into the input bounds before
 * the first step (theirs only after it); L2 takes plain normalised-gradient steps.
 *
 * Shapes: x [batch, ...inputShape]; fixed target logits [batch, classes].
 *
 * @example
 * ```ts
 * // AdaAD: the teacher at x′ is the target
 * const xAdv = klWalk({ model: student, target: teacher, x, walk: { norm: 'linf', epsilon: 0.3, stepSize: 0.05, steps: 10, start: 'gaussian' }, rng });
 * ```
 */
export function klWalk({ model, target, x, walk, rng }: KlWalkArgs): tf.Tensor {
  if (target instanceof tf.Tensor) {
    const targets = softmaxAt(target); // constant: only x′ is differentiated
    try {
      return objectiveWalk(x, (v) => tf.sum(klDivergencePerExample({ target: targets, logits: model.logits(v, { training: false }) })), walk, rng, model.bounds);
    } finally {
      targets.dispose();
    }
  }
  const teacher = target;
  return objectiveWalk(
    x,
    (v) => tf.sum(klDivergencePerExample({ target: softmaxAt(teacher.logits(v, { training: false })), logits: model.logits(v, { training: false }) })),
    walk,
    rng,
    model.bounds,
  );
}

/**
 * {@link klWalk} against fixed target logits, with the TRADES-era settings shape
 * (`randomStart` plus `options.start`): the inner problem of TRADES (targets = the model's own
 * clean logits) and CRDND's `innerLoss: 'kl'` (targets = the teacher's).
 *
 * @example
 * ```ts
 * const xAdv = klPgd({ model: student, targetLogits: cleanLogits, x, settings: { norm: 'linf', epsilon: 0.3, stepSize: 0.01, steps: 40, randomStart: true }, rng, start: 'gaussian' });
 * ```
 */
export function klPgd({ model, targetLogits, x, settings, rng, start: randomStartKind }: KlPgdArgs): tf.Tensor {
  const { norm, epsilon, stepSize, steps, randomStart } = settings;
  const start: AscentStart = randomStart ? (randomStartKind ?? (norm === 'linf' ? 'uniform' : 'gaussian')) : 'none';
  return klWalk({ model, target: targetLogits, x, walk: { norm, epsilon, stepSize, steps, start }, rng });
}
