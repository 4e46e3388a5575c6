import type { AccuracyInput, StepResult } from './types.js';

/**
 * The running sums of one epoch's training metrics: what the epoch's mean loss, mean loss terms
 * and training accuracy are computed from. A mid-epoch checkpoint saves them (as plain numbers,
 * which JSON keeps exactly), so an epoch resumed after a stop reports the same loss and accuracy
 * as one never interrupted, not the mean of only the batches after the resume.
 */
export interface EpochTotals {
  /** Sum of the batches' mean losses. */
  readonly lossSum: number;
  /** Batches summed. */
  readonly batches: number;
  /** Correctly classified training examples (steps that report it). */
  readonly correct: number;
  /** Examples seen. */
  readonly examples: number;
  /** Whether the steps report `correct`. */
  readonly reportsCorrect: boolean;
  /** Sum of each named loss term over the batches. */
  readonly termSums: Readonly<Record<string, number>>;
  /** What the accuracy is measured on, as the steps declared it; null when they disagreed or did not say. */
  readonly accuracyOn?: AccuracyInput | null;
  /** The learning rate of every step so far, in order (steps whose phase has an optimiser rate). */
  readonly learningRates?: readonly number[];
}

/** Accumulates an epoch's metrics batch by batch; restorable from a checkpoint's {@link EpochTotals}. */
export class EpochAccumulator {
  private lossSum = 0;
  private batches = 0;
  private correct = 0;
  private examples = 0;
  private reportsCorrect = false;
  private readonly termSums: Record<string, number> = {};
  private accuracyOn: AccuracyInput | null | undefined;
  private readonly learningRates: number[] = [];

  /** A fresh accumulator, or one continuing from saved totals (a resumed epoch). */
  constructor(saved?: EpochTotals) {
    if (!saved) return;
    this.lossSum = saved.lossSum;
    this.batches = saved.batches;
    this.correct = saved.correct;
    this.examples = saved.examples;
    this.reportsCorrect = saved.reportsCorrect;
    Object.assign(this.termSums, saved.termSums);
    this.accuracyOn = saved.accuracyOn;
    this.learningRates.push(...(saved.learningRates ?? []));
  }

  /** Adds one batch's step result over `size` examples. Same order of additions as an uninterrupted epoch. */
  add(result: StepResult & { readonly learningRate?: number }, size: number): void {
    if (result.learningRate !== undefined) this.learningRates.push(result.learningRate);
    this.lossSum += result.loss;
    this.batches++;
    this.examples += size;
    if (result.correct !== undefined) {
      this.reportsCorrect = true;
      this.correct += result.correct;
      // What the steps declared, unless they disagreed.
      const declared = result.accuracyOn ?? null;
      this.accuracyOn = this.accuracyOn === undefined || this.accuracyOn === declared ? declared : null;
    }
    for (const [name, value] of Object.entries(result.terms ?? {})) this.termSums[name] = (this.termSums[name] ?? 0) + value;
  }

  /** The sums so far, for a checkpoint. */
  totals(): EpochTotals {
    return { lossSum: this.lossSum, batches: this.batches, correct: this.correct, examples: this.examples, reportsCorrect: this.reportsCorrect, termSums: { ...this.termSums }, ...(this.accuracyOn !== undefined ? { accuracyOn: this.accuracyOn } : {}), learningRates: [...this.learningRates] };
  }

  /** Every step's learning rate this epoch, a resumed epoch's earlier steps included. */
  rates(): number[] {
    return [...this.learningRates];
  }

  /** The epoch's mean loss, mean terms and accuracy (undefined when steps report no `correct`), and what that accuracy is on when the steps agreed. */
  means(): { loss: number; terms: Record<string, number>; accuracy: number | undefined; accuracyOn?: AccuracyInput } {
    const terms: Record<string, number> = {};
    for (const [name, sum] of Object.entries(this.termSums)) terms[name] = sum / Math.max(1, this.batches);
    return {
      loss: this.lossSum / Math.max(1, this.batches),
      terms,
      accuracy: this.reportsCorrect && this.examples > 0 ? this.correct / this.examples : undefined,
      ...(this.reportsCorrect && this.accuracyOn ? { accuracyOn: this.accuracyOn } : {}),
    };
  }
}

/** Checks a value read from a checkpoint manifest is {@link EpochTotals}; returns a problem or undefined. */
export function epochTotalsProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'expected an object';
  const v = value as Record<string, unknown>;
  for (const key of ['lossSum', 'batches', 'correct', 'examples'] as const) if (typeof v[key] !== 'number') return `${key}: expected a number`;
  if (typeof v.reportsCorrect !== 'boolean') return 'reportsCorrect: expected true or false';
  if (typeof v.termSums !== 'object' || v.termSums === null) return 'termSums: expected an object';
  if (v.learningRates !== undefined && !(Array.isArray(v.learningRates) && v.learningRates.every((r) => typeof r === 'number'))) return 'learningRates: expected an array of numbers';
  if (v.accuracyOn !== undefined && v.accuracyOn !== null && v.accuracyOn !== 'clean' && v.accuracyOn !== 'adversarial') return 'accuracyOn: expected clean, adversarial or null';
  return undefined;
}
