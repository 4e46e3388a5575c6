/**
 * MART as an outside plugin (Wang, Zou, Yi, Bailey, Ma & Gu 2020, "Improving Adversarial
 * Robustness Requires Revisiting Misclassified Examples", ICLR), written with core's `defineMethod`.
 *
 * `L = BCE(S(x′), y) + λ·KL(S(x) ‖ S(x′))·(1 − p_S(x)_y)`, with the boosted cross-entropy
 * `BCE = CE(S(x′), y) − log(1.0001 − max_{k≠y} p_S(x′)_k)`; x′ = PGD on CE (student in inference
 * mode) through the inner-attack helpers of `@tempered/attacks`, which keep the last iterate
 * (`keepSuccessful: false`), under the ε warm-up (`cleanEpochs`, `warmupEpochs`).
 * The KL is differentiated through both arguments, as the authors' code does.
 * Departures: PGD starts uniformly in the ε-ball (the authors: x + 0.001·N(0, I)); ε ramps up over
 * the first epoch (the authors: full ε at once; from scratch on a short budget that stalls at chance).
 *
 * Parameters (MNIST defaults; the paper's CIFAR-10 values in brackets): `epsilon` 0.3 [8/255],
 * `stepSize` 0.05 [2/255], `steps` 10 [10], `lambda` 6 [6], `cleanEpochs` 0 [0],
 * `warmupEpochs` 1 [0], `epochs` 10 [90],
 * `optimizer` 'adam', `learningRate` 1e-3 [SGD 0.01]. No teacher.
 * Shapes: inputs [batch, ...inputShape], logits [batch, classes], labels int32 [batch].
 *
 * @example
 * ```ts
 * register(container); // and @tempered/attacks' register, for 'pgd'
 * const mart = createPlugin(container, TOKENS.Method, 'mart', { lambda: 6 });
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { ScheduledInnerAttack, WARMUP_PARAMS, batchesPerEpoch } from '@tempered/attacks';
import { crossEntropy, defineMethod, defineParams, klDivergencePerExample } from '@tempered/core';

export const MART_PARAMS = defineParams({
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'L∞ budget ε (CIFAR-10: 8/255)' },
  stepSize: { type: 'number', default: 0.05, greaterThan: 0, description: 'PGD step (CIFAR-10: 2/255)' },
  steps: { type: 'number', default: 10, integer: true, min: 1, description: 'PGD iterations' },
  lambda: { type: 'number', default: 6, min: 0, description: 'Weight λ of the misclassification-aware KL term' },
  ...WARMUP_PARAMS,
});

/** The MART objective's two terms for student logits on x and x′ (batch means). */
export function martTerms(cleanLogits: tf.Tensor2D, adversarialLogits: tf.Tensor2D, labels: tf.Tensor1D) {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, adversarialLogits.shape[1]);
    const adversarialProbs = tf.softmax(adversarialLogits);
    const otherMax = tf.max(tf.mul(adversarialProbs, tf.sub(1, oneHot)), 1);
    const boosted = tf.sub(crossEntropy(adversarialLogits, labels), tf.mean(tf.log(tf.sub(1.0001, otherMax))));
    const clean = tf.softmax(cleanLogits) as tf.Tensor2D;
    const kl = klDivergencePerExample(clean, adversarialLogits); // differentiable in both arguments
    const trueProb = tf.sum(tf.mul(clean, oneHot), 1);
    return { boostedCe: boosted as tf.Scalar, weightedKl: tf.mean(tf.mul(kl, tf.sub(1.0000001, trueProb))) as tf.Scalar };
  });
}

export const MART = defineMethod({
  name: 'mart',
  description: 'MART (Wang et al. 2020): boosted CE on x′ plus misclassification-weighted KL',
  teacher: 'none',
  params: MART_PARAMS,
  prepare: ({ container, train, batchSize }, params) =>
    new ScheduledInnerAttack(container, { ...params, innerAttack: 'pgd', norm: 'linf', randomStart: true }, batchesPerEpoch(train.size, batchSize)),
  async step({ batch: { x, labels }, step, params, student, prepared: inner, minimize }) {
    const xAdv = await inner.craft(student, x, labels, step);
    try {
      return minimize(() => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const { boostedCe, weightedKl } = martTerms(student.logits(x, { training: true }), adversarialLogits, labels);
        const loss = tf.add(boostedCe, tf.mul(weightedKl, params.lambda)) as tf.Scalar;
        return { loss, terms: { boostedCe, weightedKl }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      xAdv.dispose();
    }
  },
});
