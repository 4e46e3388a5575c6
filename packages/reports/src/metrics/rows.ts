import * as tf from '@tensorflow/tfjs';
import type { AttackMode, EvaluationBatch } from '@tempered/core';

/**
 * An {@link EvaluationBatch} whose rows carry their example's position in the evaluated set.
 * In an attack batch the clean tensors (`x`, `labels`, `logits`) are row-aligned with
 * `adversarial`: a targeted "every other class" batch repeats each clean example once per
 * target, and `indices` says which rows belong to the same example. Without `indices` every
 * row is its own example.
 */
export interface IndexedEvaluationBatch extends EvaluationBatch {
  readonly indices?: Int32Array;
}

/** What one adversarial row did. */
export interface AttackRow {
  readonly example: number;
  readonly label: number;
  readonly cleanPrediction: number;
  readonly adversarialPrediction: number;
  readonly target?: number;
  /** The clean input was classified correctly, so the row counts towards success rates. */
  readonly attackable: boolean;
  /** Untargeted: prediction moved off the label. Targeted: prediction reached the target. */
  readonly success: boolean;
  /** Adversarial prediction still equals the label (and the clean one did too). */
  readonly robust: boolean;
  /** Input values changed by more than {@link L0_TOLERANCE}. */
  readonly l0: number;
  readonly l2: number;
  readonly linf: number;
  /** Input values per example, for ρ_adv = l0 / featureCount. */
  readonly featureCount: number;
  readonly iterations?: number;
}

/** A change smaller than this (in input units) does not count towards L0 (float round-off from clipping). */
export const L0_TOLERANCE = 1e-6;

/** The row-aligned example positions of a batch (its own rows when it carries no indices). */
export function exampleIndices(batch: IndexedEvaluationBatch, offset = 0): Int32Array {
  if (batch.indices) return batch.indices;
  const rows = batch.labels.shape[0];
  return Int32Array.from({ length: rows }, (_, i) => offset + i);
}

const cache = new WeakMap<EvaluationBatch, AttackRow[]>();

/**
 * Per-row outcome of an attack batch (cached per batch object, so every metric that looks at
 * the same batch shares one computation). Returns [] for a clean batch.
 */
export function attackRows(batch: IndexedEvaluationBatch): AttackRow[] {
  const attack = batch.attack;
  if (!attack) return [];
  const cached = cache.get(batch);
  if (cached) return cached;
  const n = batch.labels.shape[0];
  const featureCount = batch.x.size / Math.max(n, 1);
  const { clean, adversarial, l0, l2, linf, labels, targets } = tf.tidy(() => {
    const delta = tf.reshape(tf.sub(attack.adversarial, batch.x), [n, -1]);
    const abs = tf.abs(delta);
    return {
      clean: tf.argMax(batch.logits, 1).dataSync() as Int32Array,
      adversarial: tf.argMax(attack.adversarialLogits, 1).dataSync() as Int32Array,
      l0: tf.sum(tf.cast(tf.greater(abs, L0_TOLERANCE), 'float32'), 1).dataSync() as Float32Array,
      l2: tf.sqrt(tf.sum(tf.square(delta), 1)).dataSync() as Float32Array,
      linf: tf.max(abs, 1).dataSync() as Float32Array,
      labels: batch.labels.dataSync() as Int32Array,
      targets: attack.targets ? (attack.targets.dataSync() as Int32Array) : undefined,
    };
  });
  const examples = exampleIndices(batch);
  const rows: AttackRow[] = [];
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    const attackable = clean[i] === label;
    const target = attack.mode === 'targeted' ? targets?.[i] : undefined;
    const success = attackable && (attack.mode === 'targeted' ? adversarial[i] === target : adversarial[i] !== label);
    rows.push({
      example: examples[i]!,
      label,
      cleanPrediction: clean[i]!,
      adversarialPrediction: adversarial[i]!,
      ...(target !== undefined ? { target } : {}),
      attackable,
      success,
      robust: attackable && adversarial[i] === label,
      l0: l0[i]!,
      l2: l2[i]!,
      linf: linf[i]!,
      featureCount,
      ...(attack.iterations ? { iterations: attack.iterations[i]! } : {}),
    });
  }
  cache.set(batch, rows);
  return rows;
}

/** Whether a batch belongs to the attack a metric follows ('' follows every attack). */
export function followsAttack(batch: EvaluationBatch, attack: string, mode?: AttackMode): boolean {
  if (!batch.attack) return false;
  if (attack !== '' && batch.attack.name !== attack) return false;
  return mode === undefined || batch.attack.mode === mode;
}

/**
 * Per-example robustness: an example is robust while it was classified correctly on the clean
 * input and on every adversarial row seen so far (AutoAttack's counting).
 */
export class ExampleRobustness {
  private readonly robust = new Map<number, boolean>();

  reset(): void {
    this.robust.clear();
  }

  record(example: number, robust: boolean): void {
    this.robust.set(example, (this.robust.get(example) ?? true) && robust);
  }

  get examples(): number {
    return this.robust.size;
  }

  /** Share of recorded examples that are robust; NaN when none was recorded. */
  accuracy(): number {
    if (this.robust.size === 0) return Number.NaN;
    let count = 0;
    for (const value of this.robust.values()) if (value) count++;
    return count / this.robust.size;
  }
}
