import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  Rng,
  TOKENS,
  crossEntropyPerExample,
  defineParams,
  deriveSeed,
  type AttackOptions,
  type AttackResult,
  type Model,
  type ParamValues,
} from '@tempered/core';
import { inject, injectable } from 'tsyringe';
import { apgdRun } from './apgd-run.js';
import { BaseAttack, runOnModelLike, splitCall, type AttackContext } from './base.js';
import type { ModelLike } from './model-like.js';
import { dlrLoss, isAdversarial, targetedDlrLoss } from './objective.js';
import { scatterRows } from './tensors.js';

/** APGD parameters; the defaults are the authors' (100 iterations, ρ 0.75, α 0.75, η⁽⁰⁾ = 2ε). */
export const APGD_PARAMS = defineParams({
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'threat model: L∞ or L2 ball' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'radius ε of the ball (MNIST L∞ 0.3, CIFAR-10 L∞ 8/255, L2 0.5)' },
  steps: { type: 'number', default: 100, min: 1, integer: true, description: 'iterations per run (N_iter)' },
  restarts: { type: 'number', default: 1, min: 1, integer: true, description: 'random restarts, each on the examples still robust' },
  loss: { type: 'enum', values: ['ce', 'dlr'], default: 'ce', description: 'cross-entropy or the Difference of Logits Ratio (targeted DLR when a target is set)' },
  targetClasses: {
    type: 'number',
    default: 0,
    min: 0,
    integer: true,
    description: 'APGD-T: with n > 0 (untargeted mode), run the targeted loss against each of the n most likely other classes in turn',
  },
  rho: { type: 'number', default: 0.75, greaterThan: 0, max: 1, description: 'ρ: halve η when f increased in at most this fraction of the steps since the last checkpoint' },
  momentum: { type: 'number', default: 0.75, greaterThan: 0, max: 1, description: 'α: weight of the new step against the previous update' },
  initialStep: { type: 'number', default: 2, greaterThan: 0, description: 'initial step size as a multiple of ε' },
  seed: { type: 'number', default: 0, integer: true, min: 0, description: 'seed of the random starts (options.seed overrides)' },
});
export type ApgdParams = ParamValues<typeof APGD_PARAMS>;

/**
 * Auto-PGD (Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of
 * diverse parameter-free attacks", ICML 2020), the gradient attacks of AutoAttack.
 *
 * From a start on the surface of the ball: z = P(x⁽ᵏ⁾ + η⁽ᵏ⁾·s(∇f)), x⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + α(z − x⁽ᵏ⁾) +
 * (1 − α)(x⁽ᵏ⁾ − x⁽ᵏ⁻¹⁾)) with s = sign (L∞) or g/‖g‖₂ (L2), η⁽⁰⁾ = 2ε. At the checkpoints
 * p₀ = 0, p₁ = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06) an example's η is halved, and
 * it restarts from its best point, when f increased in at most ρ of the steps since the last
 * checkpoint, or when η was not halved then and the best loss has not improved since. Each example
 * keeps its best point. f is CE, or DLR = −(Z_y − max_{i≠y} Z_i)/(Z_π1 − Z_π3); with a target t,
 * −CE(t) or targeted DLR = −(Z_y − Z_t)/(Z_π1 − (Z_π3 + Z_π4)/2).
 *
 * Modes: untargeted (success = misclassified) and targeted (success = the given target). With
 * `targetClasses` n > 0 in untargeted mode this is APGD-T: for k = 2 … n+1 the target is the k-th
 * most likely class of the clean input, each run only on the examples still robust.
 *
 * Parameters (defaults): `norm` ('linf'), `epsilon` (0.3), `steps` (100), `restarts` (1), `loss`
 * ('ce' | 'dlr', 'ce'), `targetClasses` (0), `rho` (0.75), `momentum` (0.75), `initialStep` (2),
 * `seed` (0; `options.seed` overrides). DLR needs ≥ 3 classes, targeted DLR ≥ 4. Shapes: x
 * [batch, ...inputShape], y/targets int32 [batch]. `iterations[i]` counts the iterations spent
 * on example i over all runs up to its first adversarial iterate (0 = the clean input or the first
 * start point), or all of them when it stayed robust.
 *
 * Departures from the authors' code: the returned point of a broken example is its highest-loss
 * adversarial iterate (theirs: the last adversarial one); of a robust example, its highest-loss
 * iterate of the last run (theirs: x). Condition 1 of the first checkpoint compares the first step
 * with the start point's loss, as the paper does (their code compares it with 0).
 *
 * @example
 * const ce = new Apgd({ epsilon: 0.3 });                        // APGD-CE
 * const t = new Apgd({ epsilon: 0.3, loss: 'dlr', targetClasses: 9 }); // APGD-T
 * const { adversarial, iterations } = await t.run(model, x, y, { seed: 1 });
 */
@injectable()
export class Apgd extends BaseAttack<typeof APGD_PARAMS> {
  readonly name = 'apgd';
  readonly supportedModes = ['untargeted', 'targeted'] as const;

  constructor(@inject(TOKENS.PluginParams) params?: Partial<ApgdParams> | Record<string, unknown>) {
    super('apgd', APGD_PARAMS, params);
  }

  get norm(): 'linf' | 'l2' {
    return this.values.norm;
  }

  get epsilon(): number {
    return this.values.epsilon;
  }

  protected async attack(model: Model, x: tf.Tensor, y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const { norm, epsilon, steps, restarts, loss, targetClasses, rho, momentum, initialStep } = this.values;
    const { targeted, bounds, numClasses } = context;
    if (targeted && targetClasses > 0) throw new ConfigError('apgd.targetClasses', `expected 0 in targeted mode (targets are given), got ${targetClasses}`);
    const useTargets = targeted || targetClasses > 0;
    const needed = loss === 'dlr' ? (useTargets ? 4 : 3) : 2;
    if (numClasses < needed) {
      throw new ConfigError('apgd.loss', `the ${useTargets ? 'targeted ' : ''}DLR loss needs ≥ ${needed} classes, got ${numClasses}`);
    }
    const batch = x.shape[0]!;
    const settings = { norm, epsilon, steps, rho, momentum, initialStep, bounds };
    const rng = new Rng(deriveSeed(context.seed ?? this.values.seed, 'apgd'));
    const labels = await y.data();
    const givenTargets = targeted ? await context.labels.data() : undefined;

    // Examples already adversarial at x count as broken at iteration 0 (AutoAttack skips them).
    const broken = tf.tidy(() => Array.from(isAdversarial(model.logits(x, { training: false }), context.labels, targeted).dataSync(), Boolean));
    const spent = new Int32Array(batch);
    const iterations = new Int32Array(batch);
    let result = x.clone();
    // Which target rank each pass uses: the k-th most likely class (APGD-T), or none.
    const ranks = targetClasses > 0 ? Array.from({ length: Math.min(targetClasses, numClasses - 1) }, (_, k) => k + 2) : [0];

    for (const rank of ranks) {
      for (let restart = 0; restart < restarts; restart++) {
        const active = Array.from({ length: batch }, (_, i) => i).filter((i) => !broken[i]);
        if (active.length === 0) break;
        const index = tf.tensor1d(active, 'int32');
        const xs = tf.gather(x, index);
        const ys = tf.tensor1d(active.map((i) => labels[i]!), 'int32');
        const targets = givenTargets
          ? tf.tensor1d(active.map((i) => givenTargets[i]!), 'int32')
          : rank > 0
            ? rankedClass(model, xs, rank)
            : undefined;
        const objective = (logits: tf.Tensor2D): tf.Tensor1D => {
          if (!targets) return loss === 'ce' ? crossEntropyPerExample(logits, ys) : dlrLoss(logits, ys);
          return loss === 'ce' ? (tf.neg(crossEntropyPerExample(logits, targets)) as tf.Tensor1D) : targetedDlrLoss(logits, ys, targets);
        };
        const success = (logits: tf.Tensor2D) => (targeted ? isAdversarial(logits, targets!, true) : isAdversarial(logits, ys, false));
        const run = await apgdRun(model, xs, objective, success, settings, rng);
        // Broken examples take their adversarial; robust ones the run's best point.
        const update = scatterRows(result, active, run.adversarial, active.map(() => true));
        result.dispose();
        result = update;
        active.forEach((i, k) => {
          if (run.success[k]) {
            broken[i] = true;
            iterations[i] = spent[i]! + run.firstSuccess[k]!;
          } else {
            spent[i]! += steps;
          }
        });
        tf.dispose([index, xs, ys, targets, run.adversarial]);
      }
    }
    broken.forEach((b, i) => {
      if (!b) iterations[i] = spent[i]!;
    });
    return { adversarial: result, iterations };
  }
}

/** The rank-th most likely class of each input (rank 2 = the runner-up), int32 [batch]. */
function rankedClass(model: Model, x: tf.Tensor, rank: number): tf.Tensor1D {
  return tf.tidy(() => {
    const { indices } = tf.topk(model.logits(x, { training: false }), rank);
    return tf.squeeze(tf.slice(indices, [0, rank - 1], [-1, 1]), [1]) as tf.Tensor1D;
  });
}

/**
 * APGD on any {@link ModelLike}; `args` mixes {@link ApgdParams} and call options.
 *
 * @example
 * const xAdv = await apgd(layersModel, x, y, { epsilon: 0.3, loss: 'dlr', seed: 7 });
 */
export async function apgd(model: ModelLike, x: tf.Tensor, y: tf.Tensor1D, args?: Partial<ApgdParams> & AttackOptions): Promise<tf.Tensor> {
  const { params, options } = splitCall(APGD_PARAMS, args);
  return (await runOnModelLike(new Apgd(params), model, x, y, options)).adversarial;
}
