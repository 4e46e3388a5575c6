import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, type AttackMode, type InputBounds } from '@tempered/core';
import { resolveModel, type ModelLike } from './model-like.js';

/** Per-example outcome of an attack. */
export interface AttackRecord {
  /** Untargeted: prediction ≠ label; targeted: prediction = target. */
  readonly success: boolean;
  /** argmax of the model's logits on the adversarial example. */
  readonly prediction: number;
  /** Features changed by more than 1e-6. */
  readonly l0: number;
  readonly l2: number;
  readonly linf: number;
}

/** Class indices as a tensor, an Int32Array or numbers. */
export type ClassIndices = tf.Tensor1D | Int32Array | readonly number[];

// Changes below this are float noise, not perturbations.
const L0_THRESHOLD = 1e-6;

function toArray(values: ClassIndices): Int32Array {
  if (values instanceof tf.Tensor) return Int32Array.from(values.dataSync());
  return Int32Array.from(values);
}

/**
 * Per-example records of an attack: success, prediction and the L0/L2/L∞ size of xAdv − x.
 *
 * @example
 * const records = attackRecords(model, x, xAdv, y, { mode: 'targeted', targets });
 * const successRate = records.filter((r) => r.success).length / records.length;
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
  const [predictions, l0, l2, linf] = tf.tidy(() => {
    const delta = tf.reshape(tf.sub(xAdv, x), [batch, -1]);
    const abs = tf.abs(delta);
    return [
      tf.argMax(core.logits(xAdv, { training: false }), 1).dataSync(),
      tf.sum(tf.cast(tf.greater(abs, L0_THRESHOLD), 'int32'), 1).dataSync(),
      tf.sqrt(tf.sum(tf.square(delta), 1)).dataSync(),
      tf.max(abs, 1).dataSync(),
    ];
  });
  return Array.from({ length: batch }, (_, i) => {
    const prediction = predictions![i]!;
    return {
      success: targets ? prediction === targets[i] : prediction !== labels[i],
      prediction,
      l0: l0![i]!,
      l2: l2![i]!,
      linf: linf![i]!,
    };
  });
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
