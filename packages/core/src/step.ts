import * as tf from '@tensorflow/tfjs';
import { countCorrect } from './ops.js';
import type { AccuracyInput, StepResult } from './types.js';

/** What a loss closure returns for {@link optimizeStep}. */
export interface StepLoss {
  readonly loss: tf.Scalar;
  /** Named (unweighted) terms, reported in logs. */
  readonly terms?: Record<string, tf.Scalar>;
  /** Logits whose accuracy against `labels` is reported. */
  readonly logits?: tf.Tensor2D;
  readonly labels?: tf.Tensor1D;
  /** What `logits` were computed on: the clean batch or its adversarial examples (labels epoch lines and metrics.jsonl). */
  readonly accuracyOn?: AccuracyInput;
}

/**
 * One optimiser step on `variables` minimising the closure's loss; returns plain numbers and
 * leaves no tensors behind (the closure runs inside the optimiser's gradient tape and tidy).
 */
export function optimizeStep(optimizer: tf.Optimizer, variables: tf.Variable[], compute: () => StepLoss): StepResult {
  const kept: Record<string, tf.Scalar> = {};
  let correct: number | undefined;
  let accuracyOn: AccuracyInput | undefined;
  const loss = optimizer.minimize(
    () => {
      const out = compute();
      for (const [name, value] of Object.entries(out.terms ?? {})) kept[name] = tf.keep(value.clone());
      if (out.logits && out.labels) {
        correct = countCorrect(out.logits, out.labels);
        accuracyOn = out.accuracyOn;
      }
      return out.loss;
    },
    true,
    variables,
  )!;
  const terms: Record<string, number> = {};
  for (const [name, value] of Object.entries(kept)) {
    terms[name] = value.dataSync()[0]!;
    value.dispose();
  }
  const lossValue = loss.dataSync()[0]!;
  loss.dispose();
  return { loss: lossValue, terms, correct, ...(accuracyOn ? { accuracyOn } : {}) };
}
