import * as tf from '@tensorflow/tfjs';
import type { InputBounds, Model, Rng } from '@tempered/core';
import { lossGradient } from './objective.js';
import { projectToBall } from './pgd.js';
import { l2Norms, perExample, selectRows } from './tensors.js';

/** Settings of one APGD run (Croce & Hein 2020, Algorithm 1). */
export interface ApgdRunSettings {
  readonly norm: 'linf' | 'l2';
  readonly epsilon: number;
  /** N_iter. */
  readonly steps: number;
  /** ρ of condition 1. */
  readonly rho: number;
  /** α: weight of the new projected step against the previous update. */
  readonly momentum: number;
  /** η⁽⁰⁾ = initialStep·ε. */
  readonly initialStep: number;
  readonly bounds: InputBounds;
}

/** Outcome of one run on a batch; tensors belong to the caller. */
export interface ApgdRunResult {
  /** Per example: the highest-loss adversarial iterate, or the highest-loss iterate when none was adversarial. */
  readonly adversarial: tf.Tensor;
  readonly success: boolean[];
  /** Per example: the first iteration whose iterate was adversarial (0 = the start point), or −1. */
  readonly firstSuccess: number[];
  /** Per example: the highest loss reached. */
  readonly bestLoss: Float32Array;
  /** Per example: η at the end of the run (for specs and diagnostics). */
  readonly finalStep: Float32Array;
}

/**
 * The iterations after which APGD checks whether to halve the step: w_j = ⌈p_j·N⌉ − 1 (0-based) with
 * p₀ = 0, p₁ = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06). As in the authors' code, the
 * spacing is computed in whole iterations: the first interval is ⌊0.22N⌋, each next one shrinks by
 * ⌊0.03N⌋ down to ⌊0.06N⌋ (all at least 1).
 */
export function apgdCheckpoints(steps: number): number[] {
  const first = Math.max(Math.floor(0.22 * steps), 1);
  const shrink = Math.max(Math.floor(0.03 * steps), 1);
  const minimum = Math.max(Math.floor(0.06 * steps), 1);
  const out: number[] = [];
  let interval = first;
  for (let at = interval - 1; at < steps; at += interval) {
    out.push(at);
    interval = Math.max(interval - shrink, minimum);
  }
  return out;
}

/** What APGD knows about one example at a checkpoint. */
export interface CheckpointState {
  /** Steps since the last checkpoint at which the loss increased over the previous iterate. */
  readonly increases: number;
  /** Steps since the last checkpoint, w_j − w_{j−1}. */
  readonly interval: number;
  readonly rho: number;
  /** Whether η was halved at the last checkpoint (true before the first one, so condition 2 waits a checkpoint). */
  readonly halvedAtLastCheck: boolean;
  readonly bestAtLastCheck: number;
  readonly best: number;
}

/**
 * The step-size rule: halve η when (1) the loss increased in at most ρ·(w_j − w_{j−1}) of the steps
 * since the last checkpoint (≤, as the authors' code; the paper writes <), or (2) η was not halved
 * at the last checkpoint and the best loss has not improved since.
 */
export function shouldHalveStep(state: CheckpointState): boolean {
  const oscillating = state.increases <= state.rho * state.interval;
  const stalled = !state.halvedAtLastCheck && state.bestAtLastCheck >= state.best;
  return oscillating || stalled;
}

/** A start on the surface of the ball, as in the authors' code: ε·u/‖u‖ with u uniform in [−1, 1] (L∞) or Gaussian (L2). */
function startPoint(x: tf.Tensor, settings: ApgdRunSettings, rng: Rng): tf.Tensor {
  const size = x.size;
  const noise = settings.norm === 'linf' ? rng.uniformArray(size, -1, 1) : rng.normalArray(size);
  return tf.tidy(() => {
    const u = tf.tensor(noise, x.shape);
    const flat = tf.reshape(u, [x.shape[0]!, -1]);
    const norms = (settings.norm === 'linf' ? tf.max(tf.abs(flat), 1) : l2Norms(u)) as tf.Tensor1D;
    const delta = tf.mul(tf.div(u, perExample(tf.add(norms, 1e-12) as tf.Tensor1D, u)), settings.epsilon);
    return tf.clipByValue(tf.add(x, delta), settings.bounds.min, settings.bounds.max);
  });
}

/**
 * One APGD run from a random start on every example of x. `loss` maps logits to the per-example
 * objective to ascend; `isSuccess` maps logits to booleans (the run keeps going after success, as
 * the authors' code does, so the loss and the best point keep improving).
 */
export async function apgdRun(
  model: Model,
  x: tf.Tensor,
  loss: (logits: tf.Tensor2D) => tf.Tensor1D,
  isSuccess: (logits: tf.Tensor2D) => tf.Tensor1D,
  settings: ApgdRunSettings,
  rng: Rng,
): Promise<ApgdRunResult> {
  const { norm, epsilon, steps, rho, momentum, initialStep, bounds } = settings;
  const batch = x.shape[0]!;
  const checkpoints = new Set(apgdCheckpoints(steps));

  // Evaluates the iterate: its gradient, per-example loss and success.
  const evaluate = async (point: tf.Tensor) => {
    const { gradient, logits, values } = lossGradient(model, point, loss);
    const hit = isSuccess(logits);
    const [lossValues, hitValues] = await Promise.all([values.data() as Promise<Float32Array>, hit.data()]);
    tf.dispose([logits, values, hit]);
    return { gradient, lossValues, hitValues };
  };

  let current = startPoint(x, settings, rng);
  let previous = current.clone();
  const start = await evaluate(current);
  let gradient = start.gradient;
  let best = current.clone();
  let bestGradient = gradient.clone();
  let bestAdversarial = current.clone();
  const bestLoss = Float32Array.from(start.lossValues);
  const success = Array.from(start.hitValues, Boolean);
  const firstSuccess = success.map((s): number => (s ? 0 : -1));
  const bestAdversarialLoss = Float32Array.from(start.lossValues, (v, i) => (success[i] ? v : -Infinity));
  const step = new Float32Array(batch).fill(initialStep * epsilon);

  // Checkpoint bookkeeping: increases of f since the last checkpoint (condition 1), and the best
  // loss and whether η was halved at the last checkpoint (condition 2).
  const increases = new Int32Array(batch);
  let lastLoss = Float32Array.from(start.lossValues);
  let bestAtLastCheck = Float32Array.from(bestLoss);
  let halvedAtLastCheck = new Array<boolean>(batch).fill(true); // condition 2 cannot fire at the first checkpoint
  let sinceCheck = 0;

  const replace = (target: tf.Tensor, rows: boolean[], source: tf.Tensor): tf.Tensor => {
    if (!rows.some(Boolean)) return target;
    const mask = tf.tensor1d(rows.map(Number), 'bool');
    const next = selectRows(mask, source, target);
    mask.dispose();
    target.dispose();
    return next;
  };

  for (let iteration = 0; iteration < steps; iteration++) {
    // z = P(x⁽ᵏ⁾ + η·s(∇f)); x⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + α(z − x⁽ᵏ⁾) + (1 − α)(x⁽ᵏ⁾ − x⁽ᵏ⁻¹⁾)), α = 1 at the first step.
    const alpha = iteration === 0 ? 1 : momentum;
    const next = tf.tidy(() => {
      const eta = perExample(tf.tensor1d(step), x);
      const direction =
        norm === 'linf' ? tf.sign(gradient) : tf.div(gradient, perExample(tf.add(l2Norms(gradient), 1e-12) as tf.Tensor1D, gradient));
      const z = projectToBall({ adversarial: tf.add(current, tf.mul(direction, eta)), x, norm, epsilon, bounds });
      const moved = tf.add(tf.add(current, tf.mul(tf.sub(z, current), alpha)), tf.mul(tf.sub(current, previous), 1 - alpha));
      return projectToBall({ adversarial: moved, x, norm, epsilon, bounds });
    });
    previous.dispose();
    previous = current;
    current = next;
    gradient.dispose();
    const evaluated = await evaluate(current);
    gradient = evaluated.gradient;
    const { lossValues, hitValues } = evaluated;

    const improved: boolean[] = [];
    const betterAdversarial: boolean[] = [];
    for (let i = 0; i < batch; i++) {
      const value = lossValues[i]!;
      if (value > lastLoss[i]!) increases[i]!++;
      improved.push(value > bestLoss[i]!);
      if (improved[i]) bestLoss[i] = value;
      const hit = hitValues[i] !== 0;
      betterAdversarial.push(hit && value > bestAdversarialLoss[i]!);
      if (betterAdversarial[i]) bestAdversarialLoss[i] = value;
      if (hit && !success[i]) {
        success[i] = true;
        firstSuccess[i] = iteration + 1;
      }
    }
    lastLoss = Float32Array.from(lossValues);
    best = replace(best, improved, current);
    bestGradient = replace(bestGradient, improved, gradient);
    bestAdversarial = replace(bestAdversarial, betterAdversarial, current);

    sinceCheck++;
    if (checkpoints.has(iteration)) {
      // Where η halves, the example restarts from its best point with the gradient there.
      const halve: boolean[] = [];
      for (let i = 0; i < batch; i++) {
        halve.push(shouldHalveStep({ increases: increases[i]!, interval: sinceCheck, rho, halvedAtLastCheck: halvedAtLastCheck[i]!, bestAtLastCheck: bestAtLastCheck[i]!, best: bestLoss[i]! }));
        if (halve[i]) step[i] = step[i]! / 2;
      }
      current = replace(current, halve, best);
      gradient = replace(gradient, halve, bestGradient);
      halvedAtLastCheck = halve;
      bestAtLastCheck = Float32Array.from(bestLoss);
      increases.fill(0);
      sinceCheck = 0;
    }
  }
  const succeeded = tf.tensor1d(success.map(Number), 'bool');
  const adversarial = selectRows(succeeded, bestAdversarial, best);
  tf.dispose([succeeded, current, previous, gradient, best, bestGradient, bestAdversarial]);
  return { adversarial, success, firstSuccess, bestLoss, finalStep: step };
}
