import { recordsOf, type AttackRecord } from '@tempered/attacks';
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

/** The row-aligned example positions of a batch (its own rows when it carries no indices). */
export function exampleIndices(batch: IndexedEvaluationBatch, offset = 0): Int32Array {
  if (batch.indices) return batch.indices;
  const rows = batch.labels.shape[0];
  return Int32Array.from({ length: rows }, (_, i) => offset + i);
}

const cache = new WeakMap<EvaluationBatch, AttackRecord[]>();

/**
 * The per-row {@link AttackRecord}s of an attack batch (cached per batch object, so every metric
 * that looks at the same batch shares one computation). Returns [] for a clean batch.
 */
export function attackRows(batch: IndexedEvaluationBatch): AttackRecord[] {
  const attack = batch.attack;
  if (!attack) return [];
  const cached = cache.get(batch);
  if (cached) return cached;
  const rows = recordsOf({
    x: batch.x,
    adversarial: attack.adversarial,
    logits: batch.logits,
    adversarialLogits: attack.adversarialLogits,
    labels: batch.labels,
    mode: attack.mode,
    ...(attack.targets ? { targets: attack.targets } : {}),
    examples: exampleIndices(batch),
    ...(attack.iterations ? { iterations: attack.iterations } : {}),
  });
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
