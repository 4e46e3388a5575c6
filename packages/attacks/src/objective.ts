import * as tf from '@tensorflow/tfjs';
import { crossEntropyPerExample, type Model } from '@tempered/core';

/** The loss an iterative attack ascends: cross-entropy, or the C&W logit margin. */
export type AttackLoss = 'ce' | 'margin';

export interface ObjectiveOptions {
  /** Default 'ce'. */
  readonly loss?: AttackLoss;
  /** Targeted: `labels` are the targets and the objective pulls towards them. Default false. */
  readonly targeted?: boolean;
  /** κ: the margin objective stops growing once the margin exceeds κ. Default 0. */
  readonly confidence?: number;
}

// Large but finite, so gradients through tf.where stay finite.
const MASKED = -1e30;

/** max_{i≠label} Z_i, shape [batch]. */
export function maxOtherLogit(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const isLabel = tf.cast(tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]), 'bool');
    return tf.max(tf.where(isLabel, tf.fill(logits.shape, MASKED), logits), 1) as tf.Tensor1D;
  });
}

/** Z_label − max_{i≠label} Z_i, shape [batch]: positive when `label` wins. */
export function logitMargin(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const own = tf.sum(tf.mul(tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]), logits), 1);
    return tf.sub(own, maxOtherLogit(logits, labels)) as tf.Tensor1D;
  });
}

/**
 * Per-example objective an attack *ascends*, shape [batch]:
 * - ce, untargeted: CE(Z, y);  ce, targeted: −CE(Z, t)
 * - margin, untargeted: min(max_{i≠y} Z_i − Z_y, κ);  margin, targeted: min(Z_t − max_{i≠t} Z_i, κ)
 * (the margin form is −f of Carlini & Wagner 2017, f6).
 */
export function attackObjective(logits: tf.Tensor2D, labels: tf.Tensor1D, options: ObjectiveOptions = {}): tf.Tensor1D {
  const { loss = 'ce', targeted = false, confidence = 0 } = options;
  return tf.tidy(() => {
    if (loss === 'ce') {
      const ce = crossEntropyPerExample(logits, labels);
      return (targeted ? tf.neg(ce) : ce) as tf.Tensor1D;
    }
    const margin = logitMargin(logits, labels);
    return tf.minimum(targeted ? margin : tf.neg(margin), confidence) as tf.Tensor1D;
  });
}

/**
 * ∇ₓ of the summed {@link attackObjective} (examples are independent, so row i is the gradient
 * of example i's objective), with the logits of the same forward pass. Caller disposes both.
 */
export function objectiveGradient(
  model: Model,
  x: tf.Tensor,
  labels: tf.Tensor1D,
  options: ObjectiveOptions = {},
): { gradient: tf.Tensor; logits: tf.Tensor2D } {
  let logits: tf.Tensor2D | undefined;
  const gradient = tf.tidy(() =>
    tf.grad((input: tf.Tensor) => {
      const z = model.logits(input, { training: false });
      logits = tf.keep(z.clone());
      return tf.sum(attackObjective(z, labels, options));
    })(x),
  );
  return { gradient, logits: logits! };
}

/** Boolean [batch]: targeted → argmax = label; untargeted → argmax ≠ label. */
export function isAdversarial(logits: tf.Tensor2D, labels: tf.Tensor1D, targeted: boolean): tf.Tensor1D {
  return tf.tidy(() => {
    const hit = tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32'));
    return (targeted ? hit : tf.logicalNot(hit)) as tf.Tensor1D;
  });
}
