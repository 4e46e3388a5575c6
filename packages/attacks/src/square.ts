import * as tf from '@tensorflow/tfjs';
import { Rng, TOKENS, defineParams, deriveSeed, type AttackOptions, type AttackResult, type InputBounds, type Model, type ParamValues } from '@tempered/core';
import { inject, injectable } from 'tsyringe';
import { BaseAttack, runOnModelLike, splitCall, type AttackContext } from './base.js';
import type { ModelLike } from './model-like.js';
import { geometryOf, l2Proposal, l2Start, linfProposal, linfStart, squareFraction, squareSide, type Geometry } from './square-steps.js';

/** Square Attack parameters; the defaults are AutoAttack's standard ones (5000 queries, p_init 0.8). */
export const SQUARE_PARAMS = defineParams({
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'threat model: L∞ or L2 ball' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'radius ε of the ball' },
  queries: { type: 'number', default: 5000, min: 1, integer: true, description: 'query budget per example and restart (the first query is the start point)' },
  pInit: { type: 'number', default: 0.8, greaterThan: 0, max: 1, description: 'initial fraction of pixels a square covers (0.8 in AutoAttack; the paper uses 0.05 L∞ / 0.1 L2 on ImageNet)' },
  loss: { type: 'enum', values: ['margin', 'ce'], default: 'margin', description: 'untargeted objective to minimise: the logit margin Z_y − max_{i≠y} Z_i, or −CE' },
  rescaleSchedule: { type: 'boolean', default: false, description: "stretch p's schedule to the budget as if it were 10 000 queries (the paper's code; AutoAttack standard: off)" },
  restarts: { type: 'number', default: 1, min: 1, integer: true, description: 'restarts, each on the examples still robust' },
  seed: { type: 'number', default: 0, integer: true, min: 0, description: 'seed of the random squares (options.seed overrides)' },
});
export type SquareParams = ParamValues<typeof SQUARE_PARAMS>;

/**
 * Per example: whether the logits are adversarial (argmax ≠ y, or = t; ties go to the first class,
 * as tf.argMax) and the loss the search minimises: the margin Z_y − max_{i≠y} Z_i or −CE
 * (untargeted), CE(t) (targeted).
 */
function scores(logits: Float32Array, classes: number, row: number, label: number, targeted: boolean, loss: 'margin' | 'ce'): { success: boolean; loss: number } {
  const z = logits.subarray(row * classes, (row + 1) * classes);
  let other = -Infinity;
  let top = 0;
  for (let j = 0; j < classes; j++) {
    if (j !== label && z[j]! > other) other = z[j]!;
    if (z[j]! > z[top]!) top = j;
  }
  const max = z[top]!;
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp(z[j]! - max);
  const ce = max + Math.log(sum) - z[label]!;
  if (targeted) return { success: top === label, loss: ce };
  return { success: top !== label, loss: loss === 'margin' ? z[label]! - other : -ce };
}

/**
 * Square Attack (Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a query-efficient
 * black-box adversarial attack via random search", ECCV 2020): score-based, no gradients, so
 * gradient masking does not stop it.
 *
 * Random search on the sphere of the ε-ball: from vertical stripes (L∞) or a grid of ±blocks (L2),
 * each query proposes a change in one random square window of side ≈ √(p·h·w), one sign per
 * channel (L∞: the window set to x ± ε; L2: a ±pattern that moves budget from a second window),
 * and keeps it when the loss decreases or the example becomes adversarial. p follows the
 * authors' schedule from `pInit`, halving at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000
 * iterations. An example stops once adversarial. Untargeted loss: the margin Z_y − max_{i≠y} Z_i
 * (or −CE); targeted: CE of the target, as the authors do.
 *
 * Parameters (defaults, AutoAttack standard): `norm` ('linf'), `epsilon` (0.3), `queries` (5000),
 * `pInit` (0.8), `loss` ('margin'), `rescaleSchedule` (false), `restarts` (1), `seed` (0;
 * `options.seed` overrides). x is [batch, h, w, c], [batch, h, w] or [batch, d] (a 1 × d image);
 * y/targets int32 [batch]. `iterations[i]` is the number of queries example i used (0 when it was
 * already adversarial at x, as the authors count only the correctly classified examples). A robust
 * example is returned at its lowest-loss point of the last restart (the authors' code: x).
 *
 * Departures from AutoAttack's code: each example draws its own window and signs (as the paper's
 * code; AutoAttack shares one window across the batch), a window can sit at the last row and column,
 * and the budget counts the start point, so an example uses at most `queries` queries (AutoAttack:
 * queries + 1). It needs only logits, not gradients.
 *
 * @example
 * const square = new Square({ epsilon: 0.3, queries: 5000 });
 * const { adversarial, iterations } = await square.run(model, x, y, { seed: 1 });
 */
@injectable()
export class Square extends BaseAttack<typeof SQUARE_PARAMS> {
  readonly name = 'square';
  readonly supportedModes = ['untargeted', 'targeted'] as const;
  override readonly requires = ['logits'] as const;
  /** Score-based: reads only the logits, so gradient masking cannot stop it. */
  readonly traits = { blackBox: true } as const;

  constructor(@inject(TOKENS.PluginParams) params?: Partial<SquareParams> | Record<string, unknown>) {
    super('square', SQUARE_PARAMS, params);
  }

  get norm(): 'linf' | 'l2' {
    return this.values.norm;
  }

  get epsilon(): number {
    return this.values.epsilon;
  }

  protected async attack(model: Model, x: tf.Tensor, _y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const { loss, restarts } = this.values;
    const { targeted, bounds, numClasses } = context;
    const batch = x.shape[0]!;
    const geometry = geometryOf(x.shape);
    const size = x.size / batch;
    const rng = new Rng(deriveSeed(context.seed ?? this.values.seed, 'square'));
    const labels = Int32Array.from(await context.labels.data());
    const inputs = Float32Array.from(await x.data());
    const row = (values: Float32Array, i: number) => values.subarray(i * size, (i + 1) * size);

    // One query: logits of the given rows (flat NHWC values), read back.
    const query = async (rows: Float32Array[]): Promise<Float32Array> => {
      const flat = new Float32Array(rows.length * size);
      rows.forEach((r, k) => flat.set(r, k * size));
      const logits = tf.tidy(() => model.logits(tf.tensor(flat, [rows.length, ...x.shape.slice(1)]), { training: false }));
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      return values;
    };

    const result = Float32Array.from(inputs);
    const used = new Int32Array(batch);
    const clean = await query(Array.from({ length: batch }, (_, i) => row(inputs, i)));
    const broken = Array.from({ length: batch }, (_, i) => scores(clean, numClasses, i, labels[i]!, targeted, loss).success);
    for (let restart = 0; restart < restarts; restart++) {
      const active = Array.from({ length: batch }, (_, i) => i).filter((i) => !broken[i]);
      if (active.length === 0) break;
      const run = await this.search(active.map((i) => row(inputs, i)), Int32Array.from(active, (i) => labels[i]!), geometry, query, rng, { targeted, numClasses, bounds });
      active.forEach((i, k) => {
        used[i]! += run.queries[k]!;
        if (run.success[k] || restart === restarts - 1) result.set(run.best[k]!, i * size);
        if (run.success[k]) broken[i] = true;
      });
    }
    return { adversarial: tf.tensor(result, x.shape), iterations: used };
  }

  /** One random-search run over the given examples. */
  private async search(
    xs: Float32Array[],
    labels: Int32Array,
    geometry: Geometry,
    query: (rows: Float32Array[]) => Promise<Float32Array>,
    rng: Rng,
    task: { targeted: boolean; numClasses: number; bounds: InputBounds },
  ): Promise<{ best: Float32Array[]; success: boolean[]; queries: Int32Array }> {
    const { norm, epsilon, queries, pInit, loss, rescaleSchedule } = this.values;
    const { bounds } = task;
    const n = xs.length;
    const best = xs.map((x) => (norm === 'linf' ? linfStart(x, geometry, epsilon, bounds, rng) : l2Start(x, geometry, epsilon, bounds, rng)));
    const success = new Array<boolean>(n).fill(false);
    const losses = new Float64Array(n);
    const score = (logits: Float32Array, k: number, i: number) => scores(logits, task.numClasses, k, labels[i]!, task.targeted, loss);
    const first = await query(best);
    for (let i = 0; i < n; i++) ({ success: success[i], loss: losses[i] } = score(first, i, i));
    const used = new Int32Array(n).fill(1);
    for (let iteration = 0; iteration < queries - 1; iteration++) {
      const active = Array.from({ length: n }, (_, i) => i).filter((i) => !success[i]);
      if (active.length === 0) break;
      const p = squareFraction(pInit, iteration, queries, rescaleSchedule);
      const side = squareSide(p, geometry, norm === 'linf' ? 1 : 3);
      const l2Side = side % 2 === 0 ? Math.min(side + 1, geometry.h, geometry.w) : side;
      const candidates = active.map((i) => {
        if (norm === 'l2') return l2Proposal(xs[i]!, best[i]!, geometry, l2Side, epsilon, bounds, rng);
        const candidate = Float32Array.from(best[i]!);
        linfProposal(xs[i]!, candidate, geometry, side, epsilon, bounds, rng);
        return candidate;
      });
      const logits = await query(candidates);
      active.forEach((i, k) => {
        const { success: hit, loss: value } = score(logits, k, i);
        used[i]!++;
        const improved = value < losses[i]!;
        if (improved) losses[i] = value;
        // As AutoAttack: a proposal is kept when it lowers the loss or is adversarial.
        if (improved || hit) {
          success[i] = hit;
          best[i] = candidates[k]!;
        }
      });
    }
    return { best, success, queries: used };
  }
}

/**
 * Square Attack on any {@link ModelLike}; `args` mixes {@link SquareParams} and call options.
 *
 * @example
 * const xAdv = await square(logitsFn, x, y, { epsilon: 0.3, queries: 1000, seed: 3 });
 */
export async function square(model: ModelLike, x: tf.Tensor, y: tf.Tensor1D, args?: Partial<SquareParams> & AttackOptions): Promise<tf.Tensor> {
  const { params, options } = splitCall(SQUARE_PARAMS, args);
  return (await runOnModelLike(new Square(params), model, x, y, options)).adversarial;
}
