import * as tf from '@tensorflow/tfjs';
import { TOKENS, defineParams, type AttackOptions, type AttackResult, type Model, type ParamValues } from '@tempered/core';
import { inject, injectable } from 'tsyringe';
import { BaseAttack, runOnModelLike, splitCall, type AttackContext } from './base.js';
import type { ModelLike } from './model-like.js';
import { featureCount } from './tensors.js';

/** JSMA parameters (the paper's: θ = +1, γ = 14.5 %, Jacobian of the softmax probabilities). */
export const JSMA_PARAMS = defineParams({
  theta: {
    type: 'number',
    default: 1,
    greaterThan: 0,
    max: 1,
    description: 'increase of a chosen feature as a fraction of the bounds range (1 = set to the upper bound)',
  },
  gamma: { type: 'number', default: 0.145, greaterThan: 0, max: 1, description: 'maximum fraction of features changed' },
  jacobian: {
    type: 'enum',
    values: ['probabilities', 'logits'],
    default: 'probabilities',
    description: 'differentiate softmax probabilities (paper) or logits (the variant C&W use against distillation)',
  },
});
export type JsmaParams = ParamValues<typeof JSMA_PARAMS>;

/**
 * Best feature pair by the saliency map of Papernot et al.: over pairs p < q of the search
 * domain, A = α_p + α_q, B = β_p + β_q, require A > 0 and B < 0 and maximise −A·B. Plain
 * arrays, O(d) memory (d² time); returns [-1, -1] when no pair qualifies.
 */
export function bestSaliencyPair(alpha: ArrayLike<number>, beta: ArrayLike<number>, domain: Uint8Array): [number, number] {
  // Exact branch-and-bound over the d² pairs. For any partner q, (α_p+α_q)·(−β_p−β_q) is at most
  // bound(p) = (α_p + max α)·(−β_p − min β) when both factors are positive, so visiting features by
  // decreasing bound lets both loops stop as soon as the bound falls below the best score. Ties go
  // to the lexicographically smallest (p, q), as an index-order exhaustive search would choose.
  const candidates: number[] = [];
  let maxAlpha = -Infinity;
  let minBeta = Infinity;
  for (let i = 0; i < domain.length; i++) {
    if (!domain[i]) continue;
    candidates.push(i);
    if (alpha[i]! > maxAlpha) maxAlpha = alpha[i]!;
    if (beta[i]! < minBeta) minBeta = beta[i]!;
  }
  const n = candidates.length;
  const bound = new Float64Array(domain.length);
  for (const i of candidates) {
    const a = alpha[i]! + maxAlpha;
    const b = -(beta[i]! + minBeta);
    bound[i] = a > 0 && b > 0 ? a * b : 0;
  }
  candidates.sort((p, q) => bound[q]! - bound[p]! || p - q);
  let best = 0;
  let bestP = -1;
  let bestQ = -1;
  for (let a = 0; a < n; a++) {
    const p = candidates[a]!;
    if (bound[p]! < best || bound[p]! === 0) break;
    const alphaP = alpha[p]!;
    const betaP = beta[p]!;
    for (let b = a + 1; b < n; b++) {
      const q = candidates[b]!;
      if (bound[q]! < best || bound[q]! === 0) break;
      const sumAlpha = alphaP + alpha[q]!;
      const sumBeta = betaP + beta[q]!;
      if (sumAlpha > 0 && sumBeta < 0) {
        const score = -sumAlpha * sumBeta;
        const lo = p < q ? p : q;
        const hi = p < q ? q : p;
        if (score > best || (score === best && (lo < bestP || (lo === bestP && hi < bestQ)))) {
          best = score;
          bestP = lo;
          bestQ = hi;
        }
      }
    }
  }
  return [bestP, bestQ];
}

/**
 * Jacobian-based Saliency Map Attack (Papernot, McDaniel, Jha, Fredrikson, Celik & Swami, "The
 * Limitations of Deep Learning in Adversarial Settings", EuroS&P 2016), the attack the
 * defensive-distillation paper evaluates with. Targeted only.
 *
 * Each iteration: α = ∂F_t/∂x, β = Σ_{j≠t} ∂F_j/∂x (F = softmax, or logits Z); pick the pair
 * (p, q) in the search domain maximising (α_p+α_q)·|β_p+β_q| subject to α_p+α_q > 0 and
 * β_p+β_q < 0; raise both by θ·(max − min) (clipped; θ = 1 sets them to the upper bound) and
 * drop them from the domain. The domain starts as the features below the upper bound. An example
 * stops when it reaches the target, when no pair qualifies, or after ⌊γ·d/2⌋ iterations (at most
 * γ·d features changed).
 *
 * The two Jacobian rows (target, sum of the others) are two gradient calls over the whole batch;
 * the d×d pair search runs per example on plain arrays, so memory is O(batch·d) even at 32×32×3.
 *
 * Parameters (defaults): `theta` (1), `gamma` (0.145), `jacobian` ('probabilities').
 * Shapes: x [batch, ...inputShape], targets int32 [batch]; result x's shape; `iterations[i]` is
 * the number of pair updates example i used. Expand a batch to every other class with
 * {@link allOtherTargets} for the paper's evaluation.
 *
 * @example
 * const jsma = new Jsma({ gamma: 0.145 });
 * const xAdv = await jsma.generate(model, x, y, { mode: 'targeted', targets });
 */
@injectable()
export class Jsma extends BaseAttack<typeof JSMA_PARAMS> {
  readonly name = 'jsma';
  readonly norm = 'l0' as const;
  readonly supportedModes = ['targeted'] as const;
  /** Targeted by design (Papernot et al. attack every other class); its γ is a share of features, not a certified budget. */
  readonly traits = { defaultMode: 'targeted', minimumDistortion: true } as const;

  constructor(@inject(TOKENS.PluginParams) params?: Partial<JsmaParams> | Record<string, unknown>) {
    super('jsma', JSMA_PARAMS, params);
  }

  /** The L0 budget is the fraction γ of the features. */
  get epsilon(): number {
    return this.values.gamma;
  }

  protected async attack(model: Model, x: tf.Tensor, _y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const { theta, gamma, jacobian } = this.values;
    const { bounds } = context;
    const batch = x.shape[0]!;
    const d = featureCount(x);
    const inputShape = x.shape.slice(1);
    const maxIterations = Math.floor((gamma * d) / 2);
    const increase = theta * (bounds.max - bounds.min);
    const targets = Int32Array.from(await context.labels.data());
    const pixels = Float32Array.from(await x.data());
    const domains = Array.from({ length: batch }, (_, i) => {
      const domain = new Uint8Array(d);
      for (let j = 0; j < d; j++) domain[j] = pixels[i * d + j]! < bounds.max ? 1 : 0;
      return domain;
    });
    const iterations = new Int32Array(batch);
    const active = new Set<number>(Array.from({ length: batch }, (_, i) => i));

    while (active.size > 0) {
      const rows = [...active];
      const { alpha, beta, predicted } = this.saliency(model, pixels, rows, targets, inputShape, d, jacobian);
      for (let k = 0; k < rows.length; k++) {
        const i = rows[k]!;
        if (predicted[k] === targets[i] || iterations[i]! >= maxIterations) {
          active.delete(i);
          continue;
        }
        const [p, q] = bestSaliencyPair(alpha.subarray(k * d, (k + 1) * d), beta.subarray(k * d, (k + 1) * d), domains[i]!);
        if (p < 0) {
          active.delete(i);
          continue;
        }
        for (const feature of [p, q]) {
          pixels[i * d + feature] = Math.min(bounds.max, pixels[i * d + feature]! + increase);
          domains[i]![feature] = 0;
        }
        iterations[i]!++;
      }
    }
    return { adversarial: tf.tensor(pixels, x.shape, 'float32'), iterations };
  }

  /** α, β rows [rows × d] and predictions for the given examples of `pixels`. */
  private saliency(
    model: Model,
    pixels: Float32Array,
    rows: number[],
    targets: Int32Array,
    inputShape: number[],
    d: number,
    jacobian: 'probabilities' | 'logits',
  ): { alpha: Float32Array; beta: Float32Array; predicted: Int32Array } {
    return tf.tidy(() => {
      const gathered = new Float32Array(rows.length * d);
      rows.forEach((i, k) => gathered.set(pixels.subarray(i * d, (i + 1) * d), k * d));
      const input = tf.tensor(gathered, [rows.length, ...inputShape]);
      const targetMask = tf.oneHot(
        tf.tensor1d(rows.map((i) => targets[i]!), 'int32'),
        model.numClasses,
      );
      const outputs = (z: tf.Tensor): tf.Tensor2D => (jacobian === 'logits' ? (z as tf.Tensor2D) : tf.softmax(z as tf.Tensor2D));
      let predicted: tf.Tensor | undefined;
      const alpha = tf.grad((v: tf.Tensor) => {
        const logits = model.logits(v, { training: false });
        predicted = tf.keep(tf.argMax(logits, 1)); // the forward pass of α also gives the predictions
        return tf.sum(tf.mul(outputs(logits), targetMask));
      })(input);
      const beta = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(outputs(model.logits(v, { training: false })), tf.sub(1, targetMask))))(input);
      const predictions = predicted!.dataSync() as Int32Array;
      predicted!.dispose(); // kept tensors outlive every tidy scope
      return { alpha: alpha.dataSync() as Float32Array, beta: beta.dataSync() as Float32Array, predicted: predictions };
    });
  }
}

/**
 * JSMA on any {@link ModelLike}; `args` mixes {@link JsmaParams} and call options. Targeted only,
 * so `mode` defaults to 'targeted' here and `targets` is required.
 *
 * @example
 * const xAdv = await jsma(layersModel, x, y, { targets: tf.tensor1d([3, 7], 'int32') });
 */
export async function jsma(model: ModelLike, x: tf.Tensor, y: tf.Tensor1D, args?: Partial<JsmaParams> & AttackOptions): Promise<tf.Tensor> {
  const { params, options } = splitCall(JSMA_PARAMS, args);
  return (await runOnModelLike(new Jsma(params), model, x, y, { mode: 'targeted', ...options })).adversarial;
}
