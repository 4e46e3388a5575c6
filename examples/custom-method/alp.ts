/**
 * Adversarial Logit Pairing as an outside plugin (Kannan, Kurakin & Goodfellow 2018,
 * "Adversarial Logit Pairing", arXiv:1803.06373), written with core's `defineMethod`.
 *
 * `L = ½·CE(S(x), y) + ½·CE(S(x′), y) + λ·mean_{i,c} (S(x)_{ic} − S(x′)_{ic})²`, x′ = PGD on CE.
 * As the authors' code (tensorflow/models, research/adversarial_logit_pairing/train.py): one CE
 * over the clean and adversarial halves of a doubled batch, plus `λ·mean_squared_error` between
 * the two halves' logits (a mean over batch × classes), gradient through both; x′ from PGD with
 * the model in inference mode, through the inner-attack helpers of `@tempered/attacks`
 * (`INNER_MAX_PARAMS`: last iterate, uniform start, the ε warm-up). The pairing distance is the
 * loss slot `pairing`: `pairingLoss: <registered loss>` replaces it (e.g. a KL between the halves).
 *
 * Parameters (MNIST defaults; the paper's values in brackets): `pairingWeight` λ 0.5 [ImageNet
 * 0.5], `epsilon` 0.3 [MNIST 0.3], `stepSize` 0.05, `steps` 10, `warmupEpochs` 1 [0],
 * `pairingLoss` 'alp.pairing', `epochs` 10, `optimizer` 'adam', `learningRate` 1e-3. No teacher.
 * Shapes: inputs [batch, ...inputShape], logits [batch, classes], labels int32 [batch].
 *
 * @example
 * ```ts
 * register(container); // and @tempered/attacks' register, for 'pgd'
 * const alp = createPlugin(container, TOKENS.Method, 'alp', { pairingWeight: 0.5 });
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { INNER_MAX_PARAMS, ScheduledInnerAttack, batchesPerEpoch } from '@tempered/attacks';
import { crossEntropy, defineMethod, defineParams, type LossContext } from '@tempered/core';

export const ALP_PARAMS = defineParams({
  pairingWeight: { type: 'number', default: 0.5, min: 0, description: 'Weight λ of the logit-pairing term (paper, ImageNet: 0.5)' },
  ...INNER_MAX_PARAMS,
});

/** mean_{i,c} (S(x) − S(x′))²: the authors' `tf.losses.mean_squared_error` between the halves. */
const squaredLogitDistance = ({ student, studentAdv }: Partial<LossContext>): tf.Scalar =>
  tf.tidy(() => tf.mean(tf.squaredDifference(student!.logits, studentAdv!.logits)));

export const ALP = defineMethod({
  name: 'alp',
  description: 'Adversarial logit pairing (Kannan et al. 2018): mixed clean/adversarial CE plus λ·MSE between their logits',
  teacher: 'none',
  params: ALP_PARAMS,
  losses: { pairing: squaredLogitDistance },
  prepare: ({ container, train, batchSize }, params) => new ScheduledInnerAttack(container, params, batchesPerEpoch(train.size, batchSize)),
  async step({ batch: { x, labels }, step, params, student, losses, prepared: inner, minimize }) {
    const xAdv = await inner.craft(student, x, labels, step);
    try {
      return minimize(() => {
        const cleanLogits = student.logits(x, { training: true });
        const adversarialLogits = student.logits(xAdv, { training: true });
        const mixedCe = tf.div(tf.add(crossEntropy(cleanLogits, labels), crossEntropy(adversarialLogits, labels)), 2) as tf.Scalar;
        const pairing = losses.pairing({ student: { logits: cleanLogits }, studentAdv: { logits: adversarialLogits } });
        const loss = tf.add(mixedCe, tf.mul(pairing, params.pairingWeight)) as tf.Scalar;
        return { loss, terms: { mixedCe, pairing }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      xAdv.dispose();
    }
  },
});
