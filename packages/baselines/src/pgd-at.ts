import * as tf from '@tensorflow/tfjs';
import { batchesPerEpoch, crossEntropy, defineMethod, defineParams, type ParamValues, type StepLoss } from '@tempered/core';
import { INNER_MAX_PARAMS, ScheduledInnerAttack } from '@tempered/attacks';

export const PGD_AT_PARAMS = defineParams({
  cleanWeight: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    description: 'Weight w of clean cross-entropy: (1 − w)·CE(S(x′), y) + w·CE(S(x), y); Madry et al.: 0',
  },
  ...INNER_MAX_PARAMS,
});

export type PgdAtParams = ParamValues<typeof PGD_AT_PARAMS>;

/**
 * PGD adversarial training (Madry, Makelov, Schmidt, Tsipras & Vladu 2018, "Towards Deep
 * Learning Models Resistant to Adversarial Attacks", ICLR): the no-teacher baseline of ARD.
 *
 * `L = (1 − w)·CE(S(x′), y) + w·CE(S(x), y)`, x′ = PGD on the student maximising CE (inference mode).
 *
 * Parameters (defaults): `cleanWeight` w 0; `innerAttack` 'pgd', `norm` 'linf', `epsilon` 0.3,
 * `stepSize` 0.05, `steps` 10, `randomStart` true (Madry et al. MNIST: ε 0.3, 40 × 0.01;
 * CIFAR-10: ε 8/255, 7 × 2/255); `cleanEpochs` 0, `warmupEpochs` 1 (ε and step size ramp
 * linearly over the first epoch; Madry et al. train at full ε from the start, i.e. 0: from
 * scratch at ε 0.3 that stalls at chance within a few-epoch budget); `epochs` 10; core's
 * `optimizer` (Adam 1e-3; Madry et al.: momentum 0.9, lr 0.1 with decays, weight decay 2e-4 on
 * CIFAR-10, see examples/recipes) and `schedule` (constant).
 * Reported terms: `adversarialCe` and, when w > 0, `cleanCe`. Written with core's `defineMethod`: only
 * the inner attack (`prepare`) and the loss (`step`) are here; optimiser, schedule, phase and dispose are core's. One phase, `train`.
 *
 * Shapes: inputs [batch, ...inputShape], logits [batch, classes], labels int32 [batch].
 *
 * @example
 * ```ts
 * const at = createPlugin(container, TOKENS.Method, 'pgd-at', { epsilon: 0.3, steps: 40, stepSize: 0.01 });
 * await at.setup({ student, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(at, { model: 'pgd-at', train, batchSize: 64, seed: 1 });
 * ```
 */
export const PGD_AT = defineMethod({
  name: 'pgd-at',
  description: 'PGD adversarial training (Madry et al. 2018), the no-teacher baseline',
  teacher: 'none',
  adversarial: true,
  params: PGD_AT_PARAMS,
  prepare: ({ container, train, batchSize }, params) => new ScheduledInnerAttack(container, params, batchesPerEpoch(train.size, batchSize)),
  async step({ batch: { x, labels }, step, params, student, prepared: inner, minimize }) {
    const w = params.cleanWeight;
    const xAdv = await inner.craft(student, x, labels, step);
    try {
      return minimize((): StepLoss => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const adversarialCe = crossEntropy(adversarialLogits, labels);
        if (w === 0) return { loss: adversarialCe, terms: { adversarialCe }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
        const cleanCe = crossEntropy(student.logits(x, { training: true }), labels);
        const loss = tf.add(tf.mul(adversarialCe, 1 - w), tf.mul(cleanCe, w)) as tf.Scalar;
        return { loss, terms: { adversarialCe, cleanCe }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      xAdv.dispose();
    }
  },
});
