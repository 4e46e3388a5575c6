import * as tf from '@tensorflow/tfjs';

/**
 * Shared tensor math for losses and methods. Each function returns a new tensor and disposes
 * its intermediates (tf.tidy); inputs are never disposed.
 */

/**
 * softmax(logits / T), shape [batch, classes]; T defaults to 1.
 *
 * @example
 * ```ts
 * const teacherProbs = softmaxAt(teacherLogits, 20); // Hinton's soft targets at T = 20
 * ```
 */
export function softmaxAt(logits: tf.Tensor2D, temperature = 1): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(temperature === 1 ? logits : tf.div(logits, temperature)) as tf.Tensor2D);
}

/**
 * log softmax(logits / T), shape [batch, classes]; T defaults to 1.
 *
 * @example
 * ```ts
 * const logq = logSoftmaxAt(studentLogits, 4);
 * ```
 */
export function logSoftmaxAt(logits: tf.Tensor2D, temperature = 1): tf.Tensor2D {
  return tf.tidy(() => tf.logSoftmax(temperature === 1 ? logits : tf.div(logits, temperature)) as tf.Tensor2D);
}

/**
 * Per-example cross-entropy −log softmax(logits/T)[y], shape [batch]; `labels` are int class
 * indices [batch], T defaults to 1.
 *
 * @example
 * ```ts
 * const perExample = crossEntropyPerExample(adversarialLogits, labels); // MART's per-example CE
 * ```
 */
export function crossEntropyPerExample(logits: tf.Tensor2D, labels: tf.Tensor1D, temperature = 1): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = logSoftmaxAt(logits, temperature);
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.sum(tf.mul(oneHot, logp), 1)) as tf.Tensor1D;
  });
}

/**
 * Mean cross-entropy of logits [batch, classes] at temperature T (default 1) against int labels [batch].
 *
 * @example
 * ```ts
 * const loss = crossEntropy(student.logits(xAdv, { training: true }), labels); // PGD-AT's outer loss
 * ```
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, temperature = 1): tf.Scalar {
  return tf.tidy(() => tf.mean(crossEntropyPerExample(logits, labels, temperature)) as tf.Scalar);
}

/**
 * Named arguments of {@link klDivergence}, {@link klDivergencePerExample} and {@link softCrossEntropy}:
 * a target distribution and the logits scored against it. Named because both are [batch, classes]
 * tensors, so a swapped positional pair type-checks and silently computes the wrong thing.
 */
export interface TargetAndLogits {
  /** Target probabilities p, shape [batch, classes], rows summing to 1 (e.g. `softmaxAt(teacherLogits, T)`). Not divided by `temperature`. */
  target: tf.Tensor2D;
  /** Logits z of the distribution being fitted, q = softmax(z / T), shape [batch, classes]. */
  logits: tf.Tensor2D;
  /** Temperature T dividing `logits` only; default 1. */
  temperature?: number;
}

/**
 * Mean cross-entropy of q = softmax(logits / T) against target probabilities p: mean over rows of −Σ p·log q.
 *
 * @example
 * ```ts
 * const loss = softCrossEntropy({ target: softmaxAt(teacherLogits, 20), logits: studentLogits, temperature: 20 });
 * ```
 */
export function softCrossEntropy({ target, logits, temperature = 1 }: TargetAndLogits): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.neg(tf.sum(tf.mul(target, logSoftmaxAt(logits, temperature)), 1))) as tf.Scalar);
}

/**
 * Per-example KL(target ‖ softmax(logits / T)) = Σ p (log p − log q), shape [batch]. Terms with p = 0
 * contribute 0 (p·log max(p, 1e-12)). Differentiable in both arguments, so the target may itself depend
 * on what is being differentiated, e.g. TRADES' KL(f(x) ‖ f(x′)) with respect to the model's weights.
 *
 * @example
 * ```ts
 * // TRADES' robustness term, per example: KL(f(x) ‖ f(x′))
 * const perExample = klDivergencePerExample({ target: softmaxAt(cleanLogits), logits: adversarialLogits });
 * ```
 */
export function klDivergencePerExample({ target, logits, temperature = 1 }: TargetAndLogits): tf.Tensor1D {
  return tf.tidy(() => {
    const logq = logSoftmaxAt(logits, temperature);
    // p·log(max(p, ε)) is 0 at p = 0 without a comparison mask, which has no gradient.
    const logp = tf.log(tf.maximum(target, 1e-12));
    return tf.sum(tf.mul(target, tf.sub(logp, logq)), 1) as tf.Tensor1D;
  });
}

/**
 * Batch-mean KL(target ‖ softmax(logits / T)) (PyTorch's `"batchmean"` reduction); see {@link klDivergencePerExample}.
 *
 * @example
 * ```ts
 * // Hinton's distillation term: T² · KL(teacher at T ‖ student at T)
 * const kl = klDivergence({ target: softmaxAt(teacherLogits, T), logits: studentLogits, temperature: T });
 * const distill = tf.mul(kl, T * T);
 * ```
 */
export function klDivergence(args: TargetAndLogits): tf.Scalar {
  return tf.tidy(() => tf.mean(klDivergencePerExample(args)) as tf.Scalar);
}

/**
 * Number of rows of logits [batch, classes] whose argmax equals the int label [batch].
 *
 * @example
 * ```ts
 * const accuracy = countCorrect(model.logits(x), labels) / labels.shape[0];
 * ```
 */
export function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): number {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'int32')).dataSync()[0]!);
}

