import * as tf from '@tensorflow/tfjs';

/**
 * Shared tensor math for losses and methods. Each function returns a new tensor and disposes
 * its intermediates (tf.tidy); inputs are never disposed.
 */

/** softmax(logits / T), shape [batch, classes]. */
export function softmaxAt(logits: tf.Tensor2D, temperature = 1): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(temperature === 1 ? logits : tf.div(logits, temperature)) as tf.Tensor2D);
}

/** log softmax(logits / T), shape [batch, classes]. */
export function logSoftmaxAt(logits: tf.Tensor2D, temperature = 1): tf.Tensor2D {
  return tf.tidy(() => tf.logSoftmax(temperature === 1 ? logits : tf.div(logits, temperature)) as tf.Tensor2D);
}

/** Per-example cross-entropy −log softmax(logits/T)[y], shape [batch]. */
export function crossEntropyPerExample(logits: tf.Tensor2D, labels: tf.Tensor1D, temperature = 1): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = logSoftmaxAt(logits, temperature);
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.sum(tf.mul(oneHot, logp), 1)) as tf.Tensor1D;
  });
}

/** Mean cross-entropy of logits at temperature T against int labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, temperature = 1): tf.Scalar {
  return tf.tidy(() => tf.mean(crossEntropyPerExample(logits, labels, temperature)) as tf.Scalar);
}

/** Mean cross-entropy of logits at T against target probabilities: −Σ p·log q. */
export function softCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D, temperature = 1): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.neg(tf.sum(tf.mul(targets, logSoftmaxAt(logits, temperature)), 1))) as tf.Scalar);
}

/**
 * Per-example KL(p ‖ q) = Σ p (log p − log q) with p = target probabilities and
 * q = softmax(studentLogits / T); shape [batch]. Terms with p = 0 contribute 0 (p·log max(p, 1e-12)).
 * Differentiable in both arguments, so the target may itself depend on what is being differentiated,
 * e.g. TRADES' KL(f(x) ‖ f(x′)) with respect to the model's weights.
 */
export function klDivergencePerExample(targets: tf.Tensor2D, studentLogits: tf.Tensor2D, temperature = 1): tf.Tensor1D {
  return tf.tidy(() => {
    const logq = logSoftmaxAt(studentLogits, temperature);
    // p·log(max(p, ε)) is 0 at p = 0 without a comparison mask, which has no gradient.
    const logp = tf.log(tf.maximum(targets, 1e-12));
    return tf.sum(tf.mul(targets, tf.sub(logp, logq)), 1) as tf.Tensor1D;
  });
}

/** Batch-mean KL(p ‖ softmax(studentLogits/T)) ("batchmean" reduction). */
export function klDivergence(targets: tf.Tensor2D, studentLogits: tf.Tensor2D, temperature = 1): tf.Scalar {
  return tf.tidy(() => tf.mean(klDivergencePerExample(targets, studentLogits, temperature)) as tf.Scalar);
}

/** Number of rows whose argmax equals the label. */
export function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): number {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'int32')).dataSync()[0]!);
}

