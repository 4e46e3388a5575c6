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
    return tf.sub(labelLogit(logits, labels), maxOtherLogit(logits, labels)) as tf.Tensor1D;
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

/** The k largest logits of each row, largest first, [batch, k]; differentiable (tfjs has no TopK gradient). */
export function topLogits(logits: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const columns: tf.Tensor1D[] = [];
    let rest: tf.Tensor2D = logits;
    for (let j = 0; j < k; j++) {
      columns.push(tf.max(rest, 1) as tf.Tensor1D);
      // Mask out exactly one arg-max per row, so ties still yield k values.
      if (j + 1 < k) rest = tf.where(tf.cast(tf.oneHot(tf.argMax(rest, 1), classes), 'bool'), tf.fill(rest.shape, MASKED), rest) as tf.Tensor2D;
    }
    return tf.stack(columns, 1) as tf.Tensor2D;
  });
}

/** Z_label per row, [batch]. */
function labelLogit(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.sum(tf.mul(tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]), logits), 1) as tf.Tensor1D;
}

// Keeps the DLR ratio finite when the top logits tie (the authors' code adds the same 1e-12).
const DLR_STABILITY = 1e-12;

/**
 * Difference of Logits Ratio (Croce & Hein 2020, eq. 6), the objective an attack ascends, [batch]:
 * −(Z_y − max_{i≠y} Z_i) / (Z_π1 − Z_π3), with Z_π sorted descending. Invariant to shifting and
 * scaling the logits, so a temperature-scaled (distilled) softmax does not flatten it. Needs ≥ 3 classes.
 */
export function dlrLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const top = topLogits(logits, 3);
    const [first, , third] = tf.unstack(top, 1);
    const margin = tf.sub(labelLogit(logits, labels), maxOtherLogit(logits, labels));
    return tf.neg(tf.div(margin, tf.add(tf.sub(first!, third!), DLR_STABILITY))) as tf.Tensor1D;
  });
}

/**
 * Targeted DLR (Croce & Hein 2020, eq. 7), ascended, [batch]:
 * −(Z_y − Z_t) / (Z_π1 − (Z_π3 + Z_π4)/2). Needs ≥ 4 classes.
 */
export function targetedDlrLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [first, , third, fourth] = tf.unstack(topLogits(logits, 4), 1);
    const margin = tf.sub(labelLogit(logits, labels), labelLogit(logits, targets));
    const scale = tf.sub(first!, tf.mul(tf.add(third!, fourth!), 0.5));
    return tf.neg(tf.div(margin, tf.add(scale, DLR_STABILITY))) as tf.Tensor1D;
  });
}

/**
 * ∇ₓ of Σᵢ loss(Z(x))ᵢ (examples are independent, so row i is the gradient of example i's loss),
 * with the per-example loss and the logits of the same forward pass. Caller disposes all three.
 */
export function lossGradient(
  model: Model,
  x: tf.Tensor,
  loss: (logits: tf.Tensor2D) => tf.Tensor1D,
): { gradient: tf.Tensor; logits: tf.Tensor2D; values: tf.Tensor1D } {
  let logits: tf.Tensor2D | undefined;
  let values: tf.Tensor1D | undefined;
  const gradient = tf.tidy(() =>
    tf.grad((input: tf.Tensor) => {
      const z = model.logits(input, { training: false });
      logits = tf.keep(z.clone());
      const perExample = loss(z);
      values = tf.keep(perExample.clone());
      return tf.sum(perExample);
    })(x),
  );
  return { gradient, logits: logits!, values: values! };
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
  const { gradient, logits, values } = lossGradient(model, x, (z) => attackObjective(z, labels, options));
  values.dispose();
  return { gradient, logits };
}

/** Boolean [batch]: targeted → argmax = label; untargeted → argmax ≠ label. */
export function isAdversarial(logits: tf.Tensor2D, labels: tf.Tensor1D, targeted: boolean): tf.Tensor1D {
  return tf.tidy(() => {
    const hit = tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32'));
    return (targeted ? hit : tf.logicalNot(hit)) as tf.Tensor1D;
  });
}
