import * as tf from '@tensorflow/tfjs';
import { Rng, TOKENS, defineParams, deriveSeed, type AttackOptions, type AttackResult, type InputBounds, type Model, type ParamValues } from '@tempered/core';
import { inject, injectable } from 'tsyringe';
import { BaseAttack, runOnModelLike, splitCall, type AttackContext } from './base.js';
import { distance, normOf, projectOntoPlane, projectionScratch } from './fab-projection.js';
import type { ModelLike } from './model-like.js';
import { lossGradient } from './objective.js';

/** FAB parameters; the defaults are the authors' and AutoAttack's FAB-T (100 iterations, 9 targets, α_max 0.1, η 1.05, β 0.9). */
export const FAB_PARAMS = defineParams({
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'norm the perturbation is minimised in: L∞ or L2' },
  epsilon: {
    type: 'number',
    default: 0,
    min: 0,
    description: 'budget ε: when > 0 only an adversarial within ε counts (FAB-T in AutoAttack) and random restarts start at radius ε/2; 0 = no budget (minimum-norm attack)',
  },
  steps: { type: 'number', default: 100, min: 1, integer: true, description: 'iterations per run' },
  restarts: { type: 'number', default: 1, min: 1, integer: true, description: 'runs per target; every run after the first starts at a random point' },
  targetClasses: {
    type: 'number',
    default: 9,
    min: 0,
    integer: true,
    description: "FAB-T (untargeted mode): attack the boundary to each of the n most likely other classes in turn; 0 = untargeted FAB, the nearest of all classes' boundaries (one gradient per class)",
  },
  alphaMax: { type: 'number', default: 0.1, min: 0, max: 1, description: 'α_max: the largest weight of the step from the original point (biased gradient step)' },
  eta: { type: 'number', default: 1.05, greaterThan: 0, description: 'η: overshoot of each projection step (η > 1 lands just past the boundary)' },
  beta: { type: 'number', default: 0.9, greaterThan: 0, max: 1, description: 'β: backward step towards the original point after an adversarial iterate' },
  seed: { type: 'number', default: 0, integer: true, min: 0, description: 'seed of the random restarts (options.seed overrides)' },
});
export type FabParams = ParamValues<typeof FAB_PARAMS>;

// The random start's radius without a budget: the authors' default ε per norm (L∞ 0.3, L2 1).
const UNBOUNDED_START = { linf: 0.3, l2: 1 } as const;
// Lower bound of ‖d‖ in α = ‖d₁‖ / (‖d₁‖ + ‖d₂‖), as the authors.
const MIN_STEP_NORM = 1e-8;
// Added to the dual norm when choosing the nearest boundary, as the authors.
const DUAL_NORM_STABILITY = 1e-12;

/**
 * Fast Adaptive Boundary attack (Croce & Hein, "Minimally distorted adversarial examples with a
 * fast adaptive boundary attack", ICML 2020), as run by AutoAttack (FAB-T in its standard version).
 *
 * A minimum-norm attack. Each iteration linearises the decision boundary at the current iterate
 * x⁽ᵏ⁾ (f = Z_t − Z_y, w = ∇f, plane ⟨w, z⟩ = ⟨w, x⁽ᵏ⁾⟩ − f), projects both x⁽ᵏ⁾ and the original x
 * onto that plane within the input box (d₁, d₂: the exact L∞/L2 projections), and takes the biased
 * step x⁽ᵏ⁺¹⁾ = clip((1 − α)(x⁽ᵏ⁾ + η·d₁) + α(x + η·d₂)) with α = min(‖d₁‖/(‖d₁‖ + ‖d₂‖), α_max),
 * so it stays close to x. When x⁽ᵏ⁺¹⁾ is adversarial it is kept if it is the smallest found, and
 * the iterate steps back: x⁽ᵏ⁺¹⁾ ← x + β(x⁽ᵏ⁺¹⁾ − x). The result of each example is its smallest
 * adversarial iterate.
 *
 * Modes: untargeted with `targetClasses` n > 0 is FAB-T: for k = 2 … n+1 the plane is the one
 * between y and the k-th most likely class of the clean input, each run only on the examples not
 * yet broken (success = misclassified, as the authors). With `targetClasses: 0` it is untargeted
 * FAB: the plane is the nearest of all classes' linearised boundaries (one gradient per class).
 * Targeted mode uses the given targets' planes and counts success as predicting the target
 * (`targetClasses` is ignored). With ε > 0 an example counts as broken only when its smallest
 * adversarial is within ε, and is otherwise returned as x (as the authors' `perturb`); with ε = 0
 * every adversarial counts and `epsilon` is Infinity (minimum-distortion attack).
 *
 * Parameters (defaults): `norm` ('linf'), `epsilon` (0 = no budget), `steps` (100), `restarts` (1),
 * `targetClasses` (9), `alphaMax` (0.1), `eta` (1.05), `beta` (0.9), `seed` (0; `options.seed`
 * overrides). Restarts after the first start at x plus a random point of the sphere of radius ε/2
 * (L∞: uniform in the cube, rescaled; L2: Gaussian, rescaled), without a budget at the authors'
 * default radius (L∞ 0.15, L2 0.5). x [batch, ...inputShape] within the bounds; y/targets int32
 * [batch]. `iterations[i]` counts the iterations spent on example i up to its first adversarial
 * iterate within the budget (0 = x already was), or all of them when it stayed robust.
 *
 * Departures from the authors' code: the box is the model's bounds (theirs: [0, 1]); the
 * projections are solved exactly per example in float64 by a quickselect over the breakpoints
 * (theirs: a sort and a batched binary search in float32); an example adversarial at x is not
 * attacked and counts as broken at iteration 0 (theirs: returned as x). The L1 version is not
 * implemented.
 *
 * @example
 * const fabT = new Fab({ norm: 'linf', epsilon: 0.3 });          // FAB-T as in AutoAttack
 * const minimal = new Fab({ norm: 'l2', targetClasses: 0 });     // untargeted minimum-L2 FAB
 * const { adversarial, iterations } = await fabT.run(model, x, y);
 */
@injectable()
export class Fab extends BaseAttack<typeof FAB_PARAMS> {
  readonly name = 'fab';
  readonly supportedModes = ['untargeted', 'targeted'] as const;

  constructor(@inject(TOKENS.PluginParams) params?: Partial<FabParams> | Record<string, unknown>) {
    super('fab', FAB_PARAMS, params);
  }

  get norm(): 'linf' | 'l2' {
    return this.values.norm;
  }

  /** The budget, or Infinity (minimum-distortion attack) when `epsilon` is 0. */
  get epsilon(): number {
    return this.values.epsilon > 0 ? this.values.epsilon : Infinity;
  }

  protected async attack(model: Model, x: tf.Tensor, y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const { steps, restarts, targetClasses } = this.values;
    const { targeted, numClasses } = context;
    const batch = x.shape[0]!;
    const size = x.size / batch;
    const rng = new Rng(deriveSeed(context.seed ?? this.values.seed, 'fab'));
    const labels = Int32Array.from(await y.data());
    const goals = targeted ? Int32Array.from(await context.labels.data()) : undefined;
    const inputs = Float32Array.from(await x.data());
    const clean = await logitsOf(model, x);
    const broken = Array.from({ length: batch }, (_, i) => succeeded(argMaxRow(clean, numClasses, i), labels[i]!, goals?.[i]));
    const result = Float32Array.from(inputs);
    const spent = new Int32Array(batch);
    const iterations = new Int32Array(batch);
    // The plane each pass aims at: the given targets, the rank-th most likely class (FAB-T), or the nearest class.
    const ranks = targeted ? [0] : targetClasses > 0 ? Array.from({ length: Math.min(targetClasses, numClasses - 1) }, (_, k) => k + 2) : [-1];
    for (const rank of ranks) {
      for (let restart = 0; restart < restarts; restart++) {
        const active = Array.from({ length: batch }, (_, i) => i).filter((i) => !broken[i]);
        if (active.length === 0) break;
        const x0 = new Float32Array(active.length * size);
        active.forEach((i, k) => x0.set(inputs.subarray(i * size, (i + 1) * size), k * size));
        const planes = rank === -1 ? undefined : Int32Array.from(active, (i) => (goals ? goals[i]! : rankedClass(clean, numClasses, i, rank)));
        const run = await this.single(model, x.shape, x0, Int32Array.from(active, (i) => labels[i]!), planes, goals !== undefined, restart > 0, rng, context.bounds);
        active.forEach((i, k) => {
          if (run.firstWithin[k]! >= 0) {
            broken[i] = true;
            iterations[i] = spent[i]! + run.firstWithin[k]!;
            result.set(run.best.subarray(k * size, (k + 1) * size), i * size);
          } else {
            spent[i]! += steps;
          }
        });
      }
    }
    broken.forEach((b, i) => {
      if (!b) iterations[i] = spent[i]!;
    });
    return { adversarial: tf.tensor(result, x.shape), iterations };
  }

  /**
   * One FAB run over n examples (flat values x0), aiming at the planes between each label and
   * `planes[k]` (or the nearest class when undefined). Returns each example's smallest adversarial
   * iterate and the first iteration with an adversarial within the budget (−1: none).
   */
  private async single(
    model: Model,
    shape: readonly number[],
    x0: Float32Array,
    labels: Int32Array,
    planes: Int32Array | undefined,
    goalIsTarget: boolean,
    randomStart: boolean,
    rng: Rng,
    bounds: InputBounds,
  ): Promise<{ best: Float32Array; firstWithin: Int32Array }> {
    const { norm, epsilon, steps, alphaMax, eta, beta } = this.values;
    const budget = epsilon > 0 ? epsilon : Infinity;
    const n = labels.length;
    const size = x0.length / n;
    const tensorShape = [n, ...shape.slice(1)];
    const x1 = randomStart ? randomStartPoint(x0, n, norm, (epsilon > 0 ? epsilon : UNBOUNDED_START[norm]) / 2, bounds, rng) : Float32Array.from(x0);
    const best = Float32Array.from(x0);
    const bestNorm = new Float64Array(n).fill(Infinity);
    const firstWithin = new Int32Array(n).fill(-1);
    const scratch = projectionScratch(size);
    const d1 = new Float32Array(size);
    const d2 = new Float32Array(size);
    for (let iteration = 1; iteration <= steps; iteration++) {
      const { normals, offsets } = planes ? await targetPlanes(model, x1, tensorShape, labels, planes) : await nearestPlanes(model, x1, tensorShape, labels, norm);
      for (let k = 0; k < n; k++) {
        const from = k * size;
        const w = normals.subarray(from, from + size);
        const current = x1.subarray(from, from + size);
        const origin = x0.subarray(from, from + size);
        // The linearised boundary at x1: f + ⟨w, z − x1⟩ = 0, i.e. ⟨w, z⟩ = ⟨w, x1⟩ − f.
        let rhs = -offsets[k]!;
        for (let j = 0; j < size; j++) rhs += w[j]! * current[j]!;
        projectOntoPlane(current, w, rhs, norm, bounds, d1, scratch);
        projectOntoPlane(origin, w, rhs, norm, bounds, d2, scratch);
        const a1 = Math.max(normOf(d1, norm), MIN_STEP_NORM);
        const a2 = Math.max(normOf(d2, norm), MIN_STEP_NORM);
        const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), alphaMax);
        for (let j = 0; j < size; j++) {
          const next = (current[j]! + eta * d1[j]!) * (1 - alpha) + (origin[j]! + eta * d2[j]!) * alpha;
          current[j] = Math.min(Math.max(next, bounds.min), bounds.max);
        }
      }
      const predictions = await predictRows(model, x1, tensorShape);
      for (let k = 0; k < n; k++) {
        if (!succeeded(predictions[k]!, labels[k]!, goalIsTarget ? planes![k] : undefined)) continue;
        const from = k * size;
        const current = x1.subarray(from, from + size);
        const origin = x0.subarray(from, from + size);
        const found = distance(current, origin, norm);
        if (found < bestNorm[k]!) {
          bestNorm[k] = found;
          best.set(current, from);
        }
        if (found <= budget && firstWithin[k]! < 0) firstWithin[k] = iteration;
        for (let j = 0; j < size; j++) current[j] = origin[j]! + beta * (current[j]! - origin[j]!);
      }
    }
    return { best, firstWithin };
  }
}

/** Untargeted: prediction ≠ label; with a goal (targeted mode): prediction = goal. */
function succeeded(prediction: number, label: number, goal: number | undefined): boolean {
  return goal === undefined ? prediction !== label : prediction === goal;
}

async function logitsOf(model: Model, x: tf.Tensor): Promise<Float32Array> {
  const logits = tf.tidy(() => model.logits(x, { training: false }));
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  return values;
}

async function predictRows(model: Model, values: Float32Array, shape: number[]): Promise<Int32Array> {
  const predictions = tf.tidy(() => tf.argMax(model.logits(tf.tensor(values, shape), { training: false }), 1));
  const out = (await predictions.data()) as Int32Array;
  predictions.dispose();
  return out;
}

/** argmax of row i (ties to the first class, as tf.argMax). */
function argMaxRow(logits: Float32Array, classes: number, i: number): number {
  let top = 0;
  for (let j = 1; j < classes; j++) if (logits[i * classes + j]! > logits[i * classes + top]!) top = j;
  return top;
}

/** The rank-th most likely class of row i (rank 2 = the runner-up); ties keep the lower class first. */
function rankedClass(logits: Float32Array, classes: number, i: number, rank: number): number {
  const row = Array.from({ length: classes }, (_, j) => j);
  row.sort((a, b) => logits[i * classes + b]! - logits[i * classes + a]! || a - b);
  return row[rank - 1]!;
}

/** f = Z_t − Z_y and w = ∇ₓ f per example, for the given targets (one gradient). */
async function targetPlanes(model: Model, values: Float32Array, shape: number[], labels: Int32Array, targets: Int32Array): Promise<{ normals: Float32Array; offsets: Float32Array }> {
  const x = tf.tensor(values, shape);
  const classes = model.numClasses;
  const direction = tf.tidy(() => tf.sub(tf.oneHot(tf.tensor1d(targets, 'int32'), classes), tf.oneHot(tf.tensor1d(labels, 'int32'), classes)).toFloat());
  const { gradient, logits, values: offsets } = lossGradient(model, x, (z) => tf.sum(tf.mul(z, direction), 1) as tf.Tensor1D);
  const out = { normals: (await gradient.data()) as Float32Array, offsets: (await offsets.data()) as Float32Array };
  tf.dispose([x, direction, gradient, logits, offsets]);
  return out;
}

/**
 * Untargeted FAB: per example the class j ≠ y whose linearised boundary is nearest,
 * |Z_j − Z_y| / ‖∇Z_j − ∇Z_y‖_* (dual norm: L1 for L∞, L2 for L2), with its f and w.
 */
async function nearestPlanes(model: Model, values: Float32Array, shape: number[], labels: Int32Array, norm: 'linf' | 'l2'): Promise<{ normals: Float32Array; offsets: Float32Array }> {
  const classes = model.numClasses;
  const n = labels.length;
  const size = values.length / n;
  const x = tf.tensor(values, shape);
  const gradients: Float32Array[] = [];
  let logits: Float32Array | undefined;
  for (let c = 0; c < classes; c++) {
    const { gradient, logits: z, values: picked } = lossGradient(model, x, (out) => tf.squeeze(tf.slice(out, [0, c], [-1, 1]), [1]) as tf.Tensor1D);
    gradients.push((await gradient.data()) as Float32Array);
    if (!logits) logits = (await z.data()) as Float32Array;
    tf.dispose([gradient, z, picked]);
  }
  x.dispose();
  const normals = new Float32Array(n * size);
  const offsets = new Float32Array(n);
  const diff = new Float32Array(size);
  for (let k = 0; k < n; k++) {
    const y = labels[k]!;
    const from = k * size;
    const own = gradients[y]!.subarray(from, from + size);
    let nearest = Infinity;
    for (let c = 0; c < classes; c++) {
      if (c === y) continue;
      const other = gradients[c]!.subarray(from, from + size);
      for (let j = 0; j < size; j++) diff[j] = other[j]! - own[j]!;
      const f = logits![k * classes + c]! - logits![k * classes + y]!;
      let dual = 0;
      if (norm === 'linf') for (let j = 0; j < size; j++) dual += Math.abs(diff[j]!);
      else dual = normOf(diff, 'l2');
      const reach = Math.abs(f) / (dual + DUAL_NORM_STABILITY);
      if (reach < nearest) {
        nearest = reach;
        normals.set(diff, from);
        offsets[k] = f;
      }
    }
  }
  return { normals, offsets };
}

/** x0 plus a random point of the sphere of the given radius (L∞ or L2), clipped to the bounds. */
function randomStartPoint(x0: Float32Array, n: number, norm: 'linf' | 'l2', radius: number, bounds: InputBounds, rng: Rng): Float32Array {
  const size = x0.length / n;
  const out = new Float32Array(x0.length);
  for (let k = 0; k < n; k++) {
    const t = norm === 'linf' ? rng.uniformArray(size, -1, 1) : rng.normalArray(size);
    const scale = radius / Math.max(normOf(t, norm), 1e-12);
    for (let j = 0; j < size; j++) {
      const from = k * size + j;
      out[from] = Math.min(Math.max(x0[from]! + scale * t[j]!, bounds.min), bounds.max);
    }
  }
  return out;
}

/**
 * FAB on any {@link ModelLike}; `args` mixes {@link FabParams} and call options.
 *
 * @example
 * const xAdv = await fab(layersModel, x, y, { norm: 'l2', targetClasses: 0 });
 */
export async function fab(model: ModelLike, x: tf.Tensor, y: tf.Tensor1D, args?: Partial<FabParams> & AttackOptions): Promise<tf.Tensor> {
  const { params, options } = splitCall(FAB_PARAMS, args);
  return (await runOnModelLike(new Fab(params), model, x, y, options)).adversarial;
}
