import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, type AttackMode, type InputBounds } from '@tempered/core';
import { resolveModel, type ModelLike } from './model-like.js';

/**
 * What one adversarial row did: the single per-example record, from the attack to the threat
 * model. The evaluation engine computes it per attack batch (`attackRows`), the threat models and
 * the checks read it, and {@link attackRecords} gives it to anyone holding an attack's output.
 * A targeted "every other class" evaluation has K − 1 rows per example, sharing `example`.
 */
export interface AttackRecord {
  /** The example's position in the evaluated set (the row's own index when none was given). */
  readonly example: number;
  readonly label: number;
  /** The target class, targeted rows only. */
  readonly target?: number;
  /** argmax of the model's logits on the clean input. */
  readonly cleanPrediction: number;
  /** argmax of the model's logits on the adversarial input. */
  readonly prediction: number;
  /** The clean input was classified correctly: the row counts towards success rates. */
  readonly attackable: boolean;
  /**
   * The adversarial prediction reached the attack's goal (untargeted: ≠ label; targeted: = target),
   * whether or not the clean one was correct. A row broke its example when `attackable && success`.
   */
  readonly success: boolean;
  /** Correct on the clean input and still on the adversarial one (AutoAttack's counting). */
  readonly robust: boolean;
  /** Input values changed by more than {@link L0_THRESHOLD}. */
  readonly l0: number;
  readonly l2: number;
  readonly linf: number;
  /** Input values per example, for ρ_adv = l0 / featureCount. */
  readonly featureCount: number;
  /** Iterations the attack used on this row, when it reported them. */
  readonly iterations?: number;
}

/** Class indices as a tensor, an Int32Array or numbers. */
export type ClassIndices = tf.Tensor1D | Int32Array | readonly number[];

/** A change at most this large (in input units) is float round-off from clipping, not a perturbation: it does not count towards L0. */
export const L0_THRESHOLD = 1e-6;

function toArray(values: ClassIndices): Int32Array {
  if (values instanceof tf.Tensor) return Int32Array.from(values.dataSync());
  return Int32Array.from(values);
}

/** The tensors {@link recordsOf} reads; all belong to the caller, row-aligned. */
export interface RecordInputs {
  readonly x: tf.Tensor;
  readonly adversarial: tf.Tensor;
  /** Logits on x [rows, K]. */
  readonly logits: tf.Tensor2D;
  /** Logits on adversarial [rows, K]. */
  readonly adversarialLogits: tf.Tensor2D;
  readonly labels: ClassIndices;
  readonly mode: AttackMode;
  /** Targeted mode: the target of each row. */
  readonly targets?: ClassIndices;
  /** Each row's example position (default: the row index). */
  readonly examples?: ArrayLike<number>;
  readonly iterations?: ArrayLike<number>;
}

/** The per-row {@link AttackRecord}s of an attack's output (no tensor is left behind). */
export function recordsOf(inputs: RecordInputs): AttackRecord[] {
  const rows = inputs.x.shape[0]!;
  const featureCount = inputs.x.size / Math.max(rows, 1);
  const labels = toArray(inputs.labels);
  const targets = inputs.mode === 'targeted' && inputs.targets !== undefined ? toArray(inputs.targets) : undefined;
  const [clean, adversarial, l0, l2, linf] = tf.tidy(() => {
    const delta = tf.reshape(tf.sub(inputs.adversarial, inputs.x), [rows, -1]);
    const abs = tf.abs(delta);
    return [
      tf.argMax(inputs.logits, 1).dataSync(),
      tf.argMax(inputs.adversarialLogits, 1).dataSync(),
      tf.sum(tf.cast(tf.greater(abs, L0_THRESHOLD), 'int32'), 1).dataSync(),
      tf.sqrt(tf.sum(tf.square(delta), 1)).dataSync(),
      tf.max(abs, 1).dataSync(),
    ];
  });
  return Array.from({ length: rows }, (_, i) => {
    const label = labels[i]!;
    const prediction = adversarial![i]!;
    const target = targets?.[i];
    const attackable = clean![i] === label;
    return {
      example: inputs.examples ? inputs.examples[i]! : i,
      label,
      ...(target !== undefined ? { target } : {}),
      cleanPrediction: clean![i]!,
      prediction,
      attackable,
      success: target !== undefined ? prediction === target : prediction !== label,
      robust: attackable && prediction === label,
      l0: l0![i]!,
      l2: l2![i]!,
      linf: linf![i]!,
      featureCount,
      ...(inputs.iterations ? { iterations: inputs.iterations[i]! } : {}),
    };
  });
}

/**
 * Per-example records of an attack: predictions, success and the L0/L2/L∞ size of xAdv − x.
 *
 * @example
 * const records = attackRecords(model, x, xAdv, y, { mode: 'targeted', targets });
 * const successRate = records.filter((r) => r.attackable && r.success).length / records.filter((r) => r.attackable).length;
 */
export function attackRecords(
  model: ModelLike,
  x: tf.Tensor,
  xAdv: tf.Tensor,
  y: ClassIndices,
  options: { mode?: AttackMode; targets?: ClassIndices; bounds?: InputBounds } = {},
): AttackRecord[] {
  if (x.shape.join('x') !== xAdv.shape.join('x')) {
    throw new ConfigError('attackRecords.xAdv', `expected shape [${x.shape.join(', ')}], got [${xAdv.shape.join(', ')}]`);
  }
  const mode = options.mode ?? 'untargeted';
  const labels = toArray(y);
  const batch = x.shape[0]!;
  if (labels.length !== batch) throw new ConfigError('attackRecords.y', `expected ${batch} labels, got ${labels.length}`);
  let targets: Int32Array | undefined;
  if (mode === 'targeted') {
    if (!options.targets) throw new ConfigError('attackRecords.targets', 'expected target classes in targeted mode');
    targets = toArray(options.targets);
    if (targets.length !== batch) throw new ConfigError('attackRecords.targets', `expected ${batch} targets, got ${targets.length}`);
  }
  const core = resolveModel(model, x, options.bounds);
  const logits = tf.tidy(() => core.logits(x, { training: false }));
  const adversarialLogits = tf.tidy(() => core.logits(xAdv, { training: false }));
  try {
    return recordsOf({ x, adversarial: xAdv, logits, adversarialLogits, labels, mode, ...(targets ? { targets } : {}) });
  } finally {
    tf.dispose([logits, adversarialLogits]);
  }
}

/**
 * Expands a batch into (example, target) pairs for every class other than the label: the
 * evaluation of Papernot et al. (9 targets per MNIST example). Gather inputs with
 * `tf.gather(x, examples)`.
 *
 * @example
 * const { examples, targets } = allOtherTargets(y, 10);
 * const xs = tf.gather(x, examples);
 * const xAdv = await new Jsma().generate(model, xs, tf.gather(y, examples), { mode: 'targeted', targets: tf.tensor1d(targets, 'int32') });
 */
export function allOtherTargets(labels: ClassIndices, numClasses: number): { examples: Int32Array; targets: Int32Array } {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ConfigError('allOtherTargets.numClasses', `expected an integer ≥ 2, got ${numClasses}`);
  const values = toArray(labels);
  const examples = new Int32Array(values.length * (numClasses - 1));
  const targets = new Int32Array(values.length * (numClasses - 1));
  let k = 0;
  values.forEach((label, i) => {
    if (!(label >= 0 && label < numClasses)) throw new ConfigError('allOtherTargets.labels', `expected classes in [0, ${numClasses}), got ${label} at ${i}`);
    for (let t = 0; t < numClasses; t++) {
      if (t === label) continue;
      examples[k] = i;
      targets[k++] = t;
    }
  });
  return { examples, targets };
}

/**
 * One uniformly random target ≠ label per example, drawn from a seeded stream (for targeted
 * evaluation without the 9× expansion).
 */
export function randomTargets(labels: ClassIndices, numClasses: number, seed = 0): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ConfigError('randomTargets.numClasses', `expected an integer ≥ 2, got ${numClasses}`);
  const rng = new Rng(seed);
  return toArray(labels).map((label) => {
    const offset = 1 + rng.int(numClasses - 1);
    return (label + offset) % numClasses;
  });
}
