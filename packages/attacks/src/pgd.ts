import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
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
import { BaseAttack, runOnModelLike, splitCall, type AttackContext } from './base.js';
import type { ModelLike } from './model-like.js';
import { isAdversarial, objectiveGradient } from './objective.js';
import { l2Norms, perExample, selectRows } from './tensors.js';

/** PGD parameters: every one has a default (MNIST-scale L∞: ε 0.3, α 0.01, 40 steps). */
export const PGD_PARAMS = defineParams({
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'threat model: L∞ or L2 ball' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'radius ε of the ball (for L2 on MNIST use e.g. 2)' },
  stepSize: { type: 'number', default: 0.01, min: 0, description: 'step size α per iteration (for L2 e.g. ε/10 or 2.5ε/steps)' },
  steps: { type: 'number', default: 40, min: 1, integer: true, description: 'number of iterations' },
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

/** Projects x' onto {‖x' − x‖ ≤ ε} ∩ bounds (caller disposes). */
export function projectToBall(adversarial: tf.Tensor, x: tf.Tensor, norm: 'linf' | 'l2', epsilon: number, bounds: InputBounds): tf.Tensor {
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
 * Parameters (defaults): `norm` ('linf'), `epsilon` (0.3), `stepSize` (0.01), `steps` (40),
 * `randomStart` (true), `loss` ('ce'), `confidence` κ (0), `keepSuccessful` (true), `seed` (0;
 * `options.seed` overrides). Shapes: x [batch, ...inputShape], y/targets int32 [batch]; the
 * result has x's shape. `iterations[i]` is the first iteration at which example i was
 * adversarial (0 = the start point already was), or `steps` when it never was.
 *
 * @example
 * const pgd = new Pgd({ epsilon: 0.3, stepSize: 0.01, steps: 40 });
 * const { adversarial, iterations } = await pgd.run(model, x, y, { seed: 1 });
 * const l2 = new Pgd({ norm: 'l2', epsilon: 2, stepSize: 0.1, steps: 40 });
 */
@injectable()
export class Pgd extends BaseAttack<typeof PGD_PARAMS> {
  readonly name = 'pgd';
  readonly supportedModes = ['untargeted', 'targeted'] as const;

  constructor(@inject(TOKENS.PluginParams) params?: Partial<PgdParams> | Record<string, unknown>) {
    super('pgd', PGD_PARAMS, params);
  }

  get norm(): 'linf' | 'l2' {
    return this.values.norm;
  }

  get epsilon(): number {
    return this.values.epsilon;
  }

  protected override validate(values: PgdParams): PgdParams {
    if (values.epsilon > 0 && values.stepSize === 0) throw new ConfigError('pgd.stepSize', 'expected > 0 when epsilon > 0, got 0');
    return values;
  }

  protected async attack(model: Model, x: tf.Tensor, _y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const { norm, epsilon, stepSize, steps, randomStart, loss, confidence, keepSuccessful } = this.values;
    const { labels, targeted, bounds } = context;
    const batch = x.shape[0]!;
    const objective = { loss, targeted, confidence };

    let adversarial: tf.Tensor;
    if (randomStart && epsilon > 0) {
      const rng = new Rng(deriveSeed(context.seed ?? this.values.seed, 'pgd', 'random-start'));
      const noise = sampleBall(x.shape, norm, epsilon, rng);
      adversarial = tf.tidy(() => tf.clipByValue(tf.add(x, noise), bounds.min, bounds.max));
      noise.dispose();
    } else {
      adversarial = x.clone();
    }
    let firstSuccess: tf.Tensor1D = tf.fill([batch], -1, 'int32');
    let lastSuccessful: tf.Tensor | undefined = keepSuccessful ? adversarial.clone() : undefined;
    let everSucceeded: tf.Tensor1D = tf.zeros([batch], 'bool');

    // Records which examples the iterate reached after `iteration` steps is adversarial for.
    const record = (logits: tf.Tensor2D, iteration: number): void => {
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

    for (let iteration = 0; iteration < steps; iteration++) {
      const { gradient, logits } = objectiveGradient(model, adversarial, labels, objective);
      record(logits, iteration);
      const next = tf.tidy(() => {
        const direction = norm === 'linf' ? tf.sign(gradient) : tf.div(gradient, perExample(tf.maximum(l2Norms(gradient), 1e-12) as tf.Tensor1D, gradient));
        return projectToBall(tf.add(adversarial, tf.mul(direction, stepSize)), x, norm, epsilon, bounds);
      });
      gradient.dispose();
      logits.dispose();
      adversarial.dispose();
      adversarial = next;
    }
    const finalLogits = tf.tidy(() => model.logits(adversarial, { training: false }));
    record(finalLogits, steps);
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
