import * as tf from '@tensorflow/tfjs';
import { EpsilonSchedule, WALK_PARAMS, batchesPerEpoch, objectiveWalk } from '@tempered/attacks';
import { crossEntropy, crossEntropyPerExample, defineMethod, defineParams, klDivergencePerExample, type ParamValues, type StepLoss } from '@tempered/core';

export const MART_PARAMS = defineParams({
  lambda: { type: 'number', default: 6, min: 0, description: 'Weight λ of the misclassification-aware KL term (authors: 6)' },
  ...WALK_PARAMS,
});

export type MartParams = ParamValues<typeof MART_PARAMS>;

/**
 * MART's two terms for student logits on x and x′ [batch, classes] and labels [batch] (batch
 * means): the boosted CE on x′ and the misclassification-weighted KL(S(x) ‖ S(x′)).
 *
 * @example
 * const { boostedCe, weightedKl } = martTerms(student.logits(x), student.logits(xAdv), labels);
 */
export function martTerms(cleanLogits: tf.Tensor2D, adversarialLogits: tf.Tensor2D, labels: tf.Tensor1D): { boostedCe: tf.Scalar; weightedKl: tf.Scalar } {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, adversarialLogits.shape[1]);
    const adversarialProbs = tf.softmax(adversarialLogits);
    // max_{k≠y} p(x′)_k: the strongest wrong class (their argsort-based new_y).
    const strongestWrong = tf.max(tf.mul(adversarialProbs, tf.sub(1, oneHot)), 1);
    const boostedCe = tf.add(crossEntropy(adversarialLogits, labels), tf.mean(tf.neg(tf.log(tf.add(tf.sub(1.0001, strongestWrong), 1e-12)))));
    const cleanProbs = tf.softmax(cleanLogits) as tf.Tensor2D;
    // KL(p(x) ‖ p(x′)) per example, their kl(log(p(x′) + 1e-12), p(x)); p(x) is not detached.
    const kl = klDivergencePerExample({ target: cleanProbs, logits: adversarialLogits });
    const trueProb = tf.sum(tf.mul(cleanProbs, oneHot), 1);
    return { boostedCe: boostedCe as tf.Scalar, weightedKl: tf.mean(tf.mul(kl, tf.sub(1.0000001, trueProb))) as tf.Scalar };
  });
}

/**
 * MART, Misclassification-Aware adveRsarial Training (Wang, Zou, Yi, Bailey, Ma & Gu 2020,
 * "Improving Adversarial Robustness Requires Revisiting Misclassified Examples", ICLR), as in the
 * authors' code (YisenWang/MART, `mart.py` `mart_loss`, `train_wideresnet.py`):
 *
 * `L = BCE(S(x′), y) + λ·(1/B)·Σᵢ KL(S(xᵢ) ‖ S(x′ᵢ))·(1 − p_S(xᵢ)_{yᵢ})`,
 * `BCE = CE(S(x′), y) − log(1.0001 − max_{k≠y} p_S(x′)_k)`
 *
 * x′ = PGD on the student maximising CE(S(x′), y) (`objectiveWalk` of @tempered/attacks) from x + 0.001·N(0, I),
 * sign steps, student in inference mode (their `model.eval()`). The boosted CE also pushes down
 * the strongest wrong class; the KL term weighs examples the student misclassifies on clean x
 * more. Gradient flows through both S(x) and S(x′), as theirs. No teacher: the adversarial-
 * training baseline of the robust-distillation benchmark. Reported terms: `boostedCe`,
 * `weightedKl`; accuracy is the student's on x′.
 *
 * KL normalisation: theirs sums over the classes and divides by the batch (true KL,
 * 'batchmean'), as ours. Their 1e-12 inside the boosted term's log and the 1.0000001 are kept;
 * their 1e-12 inside the KL's log p(x′) is not (core's log-softmax KL is exact).
 *
 * Parameters (defaults, MNIST-scale; the authors' CIFAR-10 values in brackets, WRN-34-10 /
 * ResNet-18 scripts): `lambda` 6 [6 / 5], `norm` 'linf', `epsilon` 0.3 [0.031], `stepSize` 0.05
 * [0.007], `steps` 10 [10], `start` 'gaussian' [x + 0.001·N(0, I)], `cleanEpochs` 0,
 * `warmupEpochs` 1 [0], `epochs` 10 [90 / 120], `optimizer` 'adam', `learningRate` 1e-3 [SGD
 * 0.1 / 0.01, momentum 0.9, weight decay 7e-4 / 3.5e-3, learning rate ×0.1 from epoch 75, ×0.01
 * from 90, ×0.001 from 100; batch 128].
 *
 * Departures from their code: the ε warm-up (`warmupEpochs: 0` is theirs: from scratch at MNIST's
 * ε 0.3 on a short budget the full ε stalls at chance); the Gaussian start is clipped into [0, 1]
 * before the first step; L2 walks use normalised-gradient steps (theirs is L∞ only); Adam by
 * default until the optimiser/schedule parameters land.
 *
 * Shapes: inputs [batch, ...inputShape]; logits [batch, classes]; labels int32 [batch].
 *
 * @example
 * ```ts
 * register(container); // @tempered/robust-distillation
 * const mart = createPlugin(container, TOKENS.Method, 'mart', { lambda: 6 });
 * await mart.setup({ student, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(mart, { model: 'mart', train, batchSize: 64, seed: 1 });
 * ```
 */
export const MART = defineMethod({
  name: 'mart',
  description: 'MART (Wang et al. 2020): boosted CE on x′ plus a KL weighted towards misclassified examples',
  teacher: 'none',
  params: MART_PARAMS,
  prepare: ({ train, batchSize }, params) => new EpsilonSchedule(params, batchesPerEpoch(train.size, batchSize)),
  step({ batch: { x, labels }, step, params, student, prepared: schedule, minimize }) {
    const objective = (v: tf.Tensor) => tf.sum(crossEntropyPerExample(student.logits(v, { training: false }), labels)) as tf.Scalar;
    const xAdv = objectiveWalk(x, objective, { ...params, ...schedule.budget(step) }, step.rng, student.bounds);
    try {
      return minimize((): StepLoss => {
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
