import * as tf from '@tensorflow/tfjs';
import { defineParams, type InputBounds, type Rng } from '@tempered/core';
import { projectToBall, sampleBall } from './pgd.js';
import { l2Norms, perExample } from './tensors.js';
import { WARMUP_PARAMS } from './training.js';

/** The walk of a projected-gradient ascent: its ball and its steps (ε and step size already scheduled). */
export interface AscentWalk {
  readonly norm: 'linf' | 'l2';
  readonly epsilon: number;
  readonly stepSize: number;
  readonly steps: number;
}

/**
 * Where a walk starts: `'uniform'` in the ε-ball (Madry et al.), `'gaussian'` x + 0.001·N(0, I)
 * (TRADES, RSLAD, AdaAD, MART code, both norms), `'none'` at x.
 */
export type AscentStart = 'uniform' | 'gaussian' | 'none';

/**
 * The start point x⁰ of a walk, clipped into the input bounds (caller disposes). With ε = 0 or
 * `'none'` it is a copy of x, and no random number is drawn.
 *
 * @example
 * const x0 = ascentStart(x, { norm: 'linf', epsilon: 0.3 }, 'uniform', rng, model.bounds);
 */
export function ascentStart(x: tf.Tensor, walk: Pick<AscentWalk, 'norm' | 'epsilon'>, start: AscentStart, rng: Rng, bounds: InputBounds): tf.Tensor {
  if (start === 'none' || walk.epsilon === 0) return x.clone();
  return tf.tidy(() => {
    const noise = start === 'uniform' ? sampleBall(x.shape, walk.norm, walk.epsilon, rng) : tf.tensor(rng.normalArray(x.size).map((v) => 0.001 * v), x.shape);
    return tf.clipByValue(tf.add(x, noise), bounds.min, bounds.max);
  });
}

/**
 * The one projected-gradient loop of `@tempered/attacks`: from `start`, `walk.steps` times,
 * x^{k+1} = Π_{B_ε(x) ∩ bounds}(x^k + α·s(g^k)) with g^k = `gradientAt(x^k, k)`, s = sign (L∞)
 * or g/‖g‖₂ per example (L2). PGD, the KL walks ({@link klWalk}) and every inner maximisation
 * built on them run this loop; they differ only in the gradient they hand it (an observer such
 * as PGD's success record runs inside `gradientAt`). Takes ownership of `start` and of each
 * gradient (disposed here); returns the last iterate, which the caller disposes.
 *
 * @example
 * const x0 = ascentStart(x, walk, 'uniform', rng, bounds);
 * const xAdv = projectedAscent(x, x0, walk, bounds, (xk) => tf.grad((v: tf.Tensor) => tf.sum(objective(v)))(xk));
 */
export function projectedAscent(
  x: tf.Tensor,
  start: tf.Tensor,
  walk: AscentWalk,
  bounds: InputBounds,
  gradientAt: (iterate: tf.Tensor, iteration: number) => tf.Tensor,
): tf.Tensor {
  const { norm, epsilon, stepSize, steps } = walk;
  let iterate = start;
  for (let iteration = 0; iteration < steps; iteration++) {
    const gradient = gradientAt(iterate, iteration);
    const next = tf.tidy(() => {
      const direction = norm === 'linf' ? tf.sign(gradient) : tf.div(gradient, perExample(tf.maximum(l2Norms(gradient), 1e-12) as tf.Tensor1D, gradient));
      return projectToBall({ adversarial: tf.add(iterate, tf.mul(direction, stepSize)), x, norm, epsilon, bounds });
    });
    gradient.dispose();
    iterate.dispose();
    iterate = next;
  }
  return iterate;
}

/**
 * Parameters of an objective-walk inner maximisation ({@link objectiveWalk}, {@link klWalk}: TRADES,
 * RSLAD, AdaAD, MART), the bundle a method spreads into its own `defineParams`. Defaults are for MNIST in [0, 1] (10 steps of 0.05 cross the
 * ε = 0.3 ball); the authors' CIFAR-10 values are ε 8/255 (0.031), step 2/255 (0.007 in TRADES), 10
 * steps. Includes {@link WARMUP_PARAMS}. The CE inner attack's bundle is `INNER_MAX_PARAMS`.
 *
 * @example
 * const PARAMS = defineParams({ alpha: { type: 'number', default: 1, description: '…' }, ...WALK_PARAMS });
 * // in prepare: new EpsilonSchedule(params, batchesPerEpoch(train.size, batchSize)); in step:
 * const xAdv = klWalk({ model: student, target: teacher, x, walk: { ...params, ...schedule.budget(step) }, rng: step.rng });
 */
export const WALK_PARAMS = defineParams({
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'Norm of the perturbation budget' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'Perturbation budget ε (MNIST; CIFAR-10: 8/255)' },
  stepSize: { type: 'number', default: 0.05, greaterThan: 0, description: 'Step size of the walk (MNIST; CIFAR-10: 2/255)' },
  steps: { type: 'number', default: 10, integer: true, min: 1, description: 'Iterations of the walk' },
  start: {
    type: 'enum',
    values: ['gaussian', 'uniform', 'none'],
    default: 'gaussian',
    description: "Start of the walk: 'gaussian' x + 0.001·N(0, I) (the TRADES, RSLAD and AdaAD code), 'uniform' in the ε-ball, 'none' at x",
  },
  ...WARMUP_PARAMS,
});

/** A walk and its start, as {@link WALK_PARAMS} gives them (ε and step size already scheduled). */
export interface WalkSettings extends AscentWalk {
  readonly start: AscentStart;
}

/**
 * Projected-gradient ascent of a caller-declared objective over the ε-ball around x: the
 * objective receives the iterate x′ and returns a scalar (sum it over the batch: with sign or
 * normalised steps the reduction does not change x′). Any model, teacher or fixed tensor the
 * objective closes over takes part; its gradient with respect to x′ is what is followed. Runs
 * the one loop of {@link projectedAscent}. Returns x′; the caller disposes it.
 *
 * @example
 * // AdaAD's inner maximisation written out: Σ KL(T(x′) ‖ S(x′))
 * const xAdv = objectiveWalk(x, (v) => tf.sum(klDivergencePerExample({ target: tf.softmax(teacher.logits(v)), logits: student.logits(v) })),
 *   { norm: 'linf', epsilon: 0.3, stepSize: 0.05, steps: 10, start: 'gaussian' }, rng, student.bounds);
 */
export function objectiveWalk(x: tf.Tensor, objective: (iterate: tf.Tensor) => tf.Scalar, walk: WalkSettings, rng: Rng, bounds: InputBounds): tf.Tensor {
  const gradient = tf.grad(objective);
  const start = ascentStart(x, walk, walk.start, rng, bounds);
  return projectedAscent(x, start, { ...walk, steps: walk.epsilon > 0 ? walk.steps : 0 }, bounds, (iterate) => gradient(iterate));
}

