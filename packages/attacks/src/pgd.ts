import * as tf from '@tensorflow/tfjs';
import {
  Rng,
  TOKENS,
  defineParams,
  deriveSeed,
  type AttackOptions,
  type AttackResult,
  type InputBounds,
  type Model,
  type ParamValues,
} from '@tempered/core';
import { inject, injectable } from 'tsyringe';
import { ascentStart, projectedAscent } from './ascent.js';
import { BaseAttack, runOnModelLike, splitCall, type AttackContext } from './base.js';
import type { ModelLike } from './model-like.js';
import { isAdversarial, objectiveGradient } from './objective.js';
import { l2Norms, perExample, scatterRows, selectRows } from './tensors.js';

/** Madry et al.'s rule for a step size that reaches the boundary of the ball: α = 2.5·ε/steps. */
export function madryStepSize(epsilon: number, steps: number): number {
  return (2.5 * epsilon) / steps;
}

/** PGD parameters: every one has a default (MNIST-scale L∞: ε 0.3, 40 steps of 2.5·ε/40). */
export const PGD_PARAMS = defineParams({
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'threat model: L∞ or L2 ball' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'radius ε of the ball (for L2 on MNIST use e.g. 2)' },
  stepSize: { type: 'number', default: 0, min: 0, description: 'step size α per iteration; 0 = 2.5·ε/steps (Madry et al.), which reaches the boundary of the ball' },
  steps: { type: 'number', default: 40, min: 1, integer: true, description: 'number of iterations' },
  restarts: { type: 'number', default: 1, min: 1, integer: true, description: 'random restarts, each on the examples not yet adversarial' },
  randomStart: { type: 'boolean', default: true, description: 'start from a uniform random point in the ball' },
  loss: { type: 'enum', values: ['ce', 'margin'], default: 'ce', description: 'objective: cross-entropy or the C&W logit margin' },
  confidence: { type: 'number', default: 0, min: 0, description: 'κ of the margin loss: stop pushing once the margin exceeds κ' },
  keepSuccessful: {
    type: 'boolean',
    default: true,
    description: 'return the last successful iterate for examples whose final iterate is no longer adversarial',
  },
  seed: { type: 'number', default: 0, integer: true, min: 0, description: 'seed of the random start (options.seed overrides)' },
});
export type PgdParams = ParamValues<typeof PGD_PARAMS>;

/** A uniform sample from the ε-ball of `norm` around 0 with x's shape (caller disposes). */
export function sampleBall(shape: readonly number[], norm: 'linf' | 'l2', epsilon: number, rng: Rng): tf.Tensor {
  const batch = shape[0]!;
  const d = shape.slice(1).reduce((a, b) => a * b, 1);
  if (norm === 'linf') return tf.tensor(rng.uniformArray(batch * d, -epsilon, epsilon), [...shape]);
  // Uniform in the L2 ball: a Gaussian direction, radius ε·u^(1/d).
  const values = rng.normalArray(batch * d);
  for (let i = 0; i < batch; i++) {
    const row = values.subarray(i * d, (i + 1) * d);
    let sq = 0;
    for (const v of row) sq += v * v;
    const radius = epsilon * Math.pow(rng.next(), 1 / d);
    const scale = sq > 0 ? radius / Math.sqrt(sq) : 0;
    for (let j = 0; j < d; j++) row[j]! *= scale;
  }
  return tf.tensor(values, [...shape]);
}

/**
 * Named arguments of {@link projectToBall}: x′ and x are both input-shaped tensors, so a
 * positional swap would type-check and project x into a ball around x′. No field has a default.
 */
export interface BallProjection {
  /** x′, the iterate to project, shape [batch, ...inputShape]. */
  readonly adversarial: tf.Tensor;
  /** The clean inputs the ball is centred on, same shape; assumed inside `bounds`. */
  readonly x: tf.Tensor;
  /**
   * `'linf'` clips each coordinate of x′ − x to [−ε, ε]; `'l2'` rescales each example's x′ − x to
   * length ≤ ε (unchanged when already inside).
   */
  readonly norm: 'linf' | 'l2';
  /** Radius ε of the ball, ≥ 0, in input units (e.g. 0.3 for MNIST in [0, 1]). */
  readonly epsilon: number;
  /**
   * The valid input range (`model.bounds`, e.g. `{ min: 0, max: 1 }`), clipped to after the ball;
   * since x is inside the bounds, the clip keeps x′ in the ball.
   */
  readonly bounds: InputBounds;
}

/**
 * Projects x′ onto {‖x′ − x‖ ≤ ε} ∩ [bounds.min, bounds.max], per example: the projection step of
 * every PGD-style walk. Every argument is required; see {@link BallProjection} for each one's
 * meaning. Returns a new tensor of x's shape (the caller disposes it); the inputs are not disposed.
 *
 * @example
 * ```ts
 * const next = tf.tidy(() =>
 *   projectToBall({ adversarial: tf.add(xAdv, tf.mul(tf.sign(gradient), stepSize)), x, norm: 'linf', epsilon: 0.3, bounds: model.bounds }),
 * );
 * ```
 */
export function projectToBall({ adversarial, x, norm, epsilon, bounds }: BallProjection): tf.Tensor {
  return tf.tidy(() => {
    let delta = tf.sub(adversarial, x);
    if (norm === 'linf') {
      delta = tf.clipByValue(delta, -epsilon, epsilon);
    } else {
      const norms = l2Norms(delta);
      const factor = tf.minimum(1, tf.div(epsilon, tf.maximum(norms, 1e-12))) as tf.Tensor1D;
      delta = tf.mul(delta, perExample(factor, delta));
    }
    // Clipping moves each coordinate towards x (x is within the bounds), so the ball still holds.
    return tf.clipByValue(tf.add(x, delta), bounds.min, bounds.max);
  });
}

/**
 * Projected Gradient Descent (Madry, Makelov, Schmidt, Tsipras & Vladu, "Towards Deep Learning
 * Models Resistant to Adversarial Attacks", ICLR 2018).
 *
 * x⁰ = x (+ uniform noise in the ball); x^{k+1} = Π_{B_ε(x) ∩ bounds}(x^k + α·s(∇ J(x^k))) with
 * s = sign for L∞ and s(g) = g/‖g‖₂ for L2; J is CE (untargeted), −CE of the target
 * (targeted), or the C&W margin min(max_{i≠y} Z_i − Z_y, κ) / min(Z_t − max_{i≠t} Z_i, κ).
 *
 * Parameters (defaults): `norm` ('linf'), `epsilon` (0.3), `stepSize` (0 = 2.5·ε/steps, Madry et
 * al.'s rule, so the walk can cross the ball at any ε; the old fixed 0.01 at ε = 0.3 overstated
 * robustness), `steps` (40), `restarts` (1; each restart attacks only the examples not yet
 * adversarial), `randomStart` (true), `loss` ('ce'), `confidence` κ (0), `keepSuccessful` (true),
 * `seed` (0; `options.seed` overrides; restart r > 0 derives its own start). Shapes: x
 * [batch, ...inputShape], y/targets int32 [batch]; the result has x's shape. `iterations[i]` is
 * the first iteration at which example i was adversarial (0 = the start point already was), plus
 * `steps` for every earlier restart, or `steps × restarts` when it never was.
 *
 * @example
 * const pgd = new Pgd({ epsilon: 0.3, steps: 100, restarts: 5 }); // α = 2.5·0.3/100
 * const { adversarial, iterations } = await pgd.run(model, x, y, { seed: 1 });
 * const l2 = new Pgd({ norm: 'l2', epsilon: 2, steps: 40 });
 */
@injectable()
export class Pgd extends BaseAttack<typeof PGD_PARAMS> {
  readonly name = 'pgd';
  readonly supportedModes = ['untargeted', 'targeted'] as const;
  /** Its margin-loss twin is the same PGD with `loss: 'margin'` (when the config left the loss unset). */
  readonly traits = {
    marginTwin: (params: Readonly<Record<string, unknown>>) => (params['loss'] === undefined ? { ...params, loss: 'margin' } : undefined),
  };

  constructor(@inject(TOKENS.PluginParams) params?: Partial<PgdParams> | Record<string, unknown>) {
    super('pgd', PGD_PARAMS, params);
  }

  get norm(): 'linf' | 'l2' {
    return this.values.norm;
  }

  get epsilon(): number {
    return this.values.epsilon;
  }

  /** The step size in use: the parameter, or 2.5·ε/steps when it is 0. */
  get effectiveStepSize(): number {
    const { stepSize, epsilon, steps } = this.values;
    return stepSize > 0 ? stepSize : madryStepSize(epsilon, steps);
  }

  /** stepSize 0 recorded as the 2.5·ε/steps it stands for. */
  protected override resolveParams(values: PgdParams): Record<string, unknown> {
    return { ...values, stepSize: this.effectiveStepSize };
  }

  protected async attack(model: Model, x: tf.Tensor, _y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const { restarts } = this.values;
    const batch = x.shape[0]!;
    const seed = context.seed ?? this.values.seed;
    if (restarts === 1) return this.single(model, x, context.labels, context, deriveSeed(seed, 'pgd', 'random-start'));
    // Each restart attacks only the examples no earlier run made adversarial (as AutoAttack does).
    let result = x.clone();
    const iterations = new Int32Array(batch);
    const done = new Array<boolean>(batch).fill(false);
    for (let restart = 0; restart < restarts; restart++) {
      const active = done.flatMap((d, i) => (d ? [] : [i]));
      if (active.length === 0) break;
      const index = tf.tensor1d(active, 'int32');
      const xs = tf.gather(x, index);
      const labels = tf.gather(context.labels, index) as tf.Tensor1D;
      const runSeed = restart === 0 ? deriveSeed(seed, 'pgd', 'random-start') : deriveSeed(seed, 'pgd', 'random-start', restart);
      const run = await this.single(model, xs, labels, context, runSeed);
      const success = tf.tidy(() => Array.from(isAdversarial(model.logits(run.adversarial, { training: false }), labels, context.targeted).dataSync(), Boolean));
      // Successful rows, and on the last restart every row still attacked, take this run's point.
      const next = scatterRows(result, active, run.adversarial, active.map((_, k) => success[k]! || restart === restarts - 1));
      result.dispose();
      result = next;
      active.forEach((i, k) => {
        iterations[i]! += run.iterations[k]!;
        if (success[k]) done[i] = true;
      });
      tf.dispose([index, xs, labels, run.adversarial]);
    }
    return { adversarial: result, iterations };
  }

  /** One PGD run from a seeded random start on every example of x. */
  private async single(model: Model, x: tf.Tensor, labels: tf.Tensor1D, context: AttackContext, seed: number): Promise<AttackResult> {
    const { norm, epsilon, steps, randomStart, loss, confidence, keepSuccessful } = this.values;
    const stepSize = this.effectiveStepSize;
    const { targeted, bounds } = context;
    const batch = x.shape[0]!;
    const objective = { loss, targeted, confidence };

    const start = ascentStart(x, { norm, epsilon }, randomStart ? 'uniform' : 'none', new Rng(seed), bounds);
    let firstSuccess: tf.Tensor1D = tf.fill([batch], -1, 'int32');
    let lastSuccessful: tf.Tensor | undefined = keepSuccessful ? start.clone() : undefined;
    let everSucceeded: tf.Tensor1D = tf.zeros([batch], 'bool');

    // Records which examples the iterate reached after `iteration` steps is adversarial for.
    const record = (logits: tf.Tensor2D, iteration: number, adversarial: tf.Tensor): void => {
      const next = tf.tidy(() => {
        const success = isAdversarial(logits, labels, targeted);
        const first = tf.where(tf.logicalAnd(success, tf.less(firstSuccess, 0)), tf.fill([batch], iteration, 'int32'), firstSuccess);
        const kept = lastSuccessful ? selectRows(success, adversarial, lastSuccessful) : undefined;
        return { first, ever: tf.logicalOr(everSucceeded, success), kept };
      });
      firstSuccess.dispose();
      everSucceeded.dispose();
      lastSuccessful?.dispose();
      firstSuccess = next.first as tf.Tensor1D;
      everSucceeded = next.ever as tf.Tensor1D;
      lastSuccessful = next.kept;
    };

    // The one ascent loop; this attack's success record observes each iterate before its step.
    const adversarial = projectedAscent(x, start, { norm, epsilon, stepSize, steps }, bounds, (iterate, iteration) => {
      const { gradient, logits } = objectiveGradient(model, iterate, labels, objective);
      record(logits, iteration, iterate);
      logits.dispose();
      return gradient;
    });
    const finalLogits = tf.tidy(() => model.logits(adversarial, { training: false }));
    record(finalLogits, steps, adversarial);
    finalLogits.dispose();

    const result = lastSuccessful ? selectRows(everSucceeded, lastSuccessful, adversarial) : adversarial.clone();
    const iterations = tf.tidy(() => tf.where(tf.less(firstSuccess, 0), tf.fill([batch], steps, 'int32'), firstSuccess));
    const iterationCounts = (await iterations.data()) as Int32Array;
    for (const t of [iterations, firstSuccess, everSucceeded, adversarial, lastSuccessful]) t?.dispose();
    return { adversarial: result, iterations: Int32Array.from(iterationCounts) };
  }
}

/**
 * PGD on any {@link ModelLike}; `args` mixes {@link PgdParams} and call options.
 *
 * @example
 * const xAdv = await pgd(layersModel, x, y, { epsilon: 0.3, steps: 40, seed: 7 });
 */
export async function pgd(model: ModelLike, x: tf.Tensor, y: tf.Tensor1D, args?: Partial<PgdParams> & AttackOptions): Promise<tf.Tensor> {
  const { params, options } = splitCall(PGD_PARAMS, args);
  return (await runOnModelLike(new Pgd(params), model, x, y, options)).adversarial;
}
