import * as tf from '@tensorflow/tfjs';
import { countCorrect } from './ops.js';
import { learningRateOf, weightDecayOf } from './optimizers.js';
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
 *
 * @example
 * ```ts
 * const result = optimizeStep(optimizer, student.trainableVariables(), () => {
 *   const logits = student.logits(x, { training: true });
 *   return { loss: crossEntropy(logits, labels), logits, labels };
 * });
 * ```
 */
export function optimizeStep(optimizer: tf.Optimizer, variables: tf.Variable[], compute: () => StepLoss): StepResult {
  const kept: Record<string, tf.Scalar> = {};
  let correct: number | undefined;
  let accuracyOn: AccuracyInput | undefined;
  const closure = () => {
    const out = compute();
    for (const [name, value] of Object.entries(out.terms ?? {})) kept[name] = tf.keep(value.clone());
    if (out.logits && out.labels) {
      correct = countCorrect(out.logits, out.labels);
      accuracyOn = out.accuracyOn;
    }
    return out.loss;
  };
  const decay = weightDecayOf(optimizer);
  const loss = decay ? decayedStep(optimizer, variables, closure, decay) : optimizer.minimize(closure, true, variables)!;
  const terms: Record<string, number> = {};
  for (const [name, value] of Object.entries(kept)) {
    terms[name] = value.dataSync()[0]!;
    value.dispose();
  }
  const lossValue = loss.dataSync()[0]!;
  loss.dispose();
  return { loss: lossValue, terms, correct, ...(accuracyOn ? { accuracyOn } : {}) };
}

/**
 * `optimizer.minimize` with PyTorch's weight decay: L2 adds λ·w to each gradient before the
 * optimiser sees it (SGD, momentum, Nesterov, Adam); decoupled (AdamW) shrinks each weight by
 * lr·λ before the update, the update itself using the gradient at the old weights.
 */
function decayedStep(optimizer: tf.Optimizer, variables: tf.Variable[], closure: () => tf.Scalar, decay: { mode: 'l2' | 'decoupled'; rate: number }): tf.Scalar {
  const { value, grads } = optimizer.computeGradients(closure, variables);
  const gradients = variables.map((v) => {
    const gradient = grads[v.name]!;
    return { name: v.name, tensor: decay.mode === 'l2' ? tf.tidy(() => tf.add(gradient, tf.mul(v, decay.rate))) : gradient };
  });
  if (decay.mode === 'decoupled') {
    const shrink = 1 - (learningRateOf(optimizer) ?? 0) * decay.rate;
    for (const v of variables) tf.tidy(() => v.assign(tf.mul(v, shrink)));
  }
  optimizer.applyGradients(gradients);
  tf.dispose(grads);
  if (decay.mode === 'l2') tf.dispose(gradients.map((g) => g.tensor));
  return value;
}
