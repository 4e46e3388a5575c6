import * as tf from '@tensorflow/tfjs';
import { INNER_MAX_PARAMS, ScheduledInnerAttack, batchesPerEpoch } from '@tempered/attacks';
import { crossEntropy, defineMethod, defineParams, klDivergencePerExample, softmaxAt, type ParamValues, type StepLoss } from '@tempered/core';
import { reduceKl } from './kl.js';

export const IAD_PARAMS = defineParams({
  temperature: { type: 'number', default: 1, greaterThan: 0, description: 'Distillation temperature τ of the teacher term (authors: 1)' },
  alpha: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    description: 'Weight α of the two KL terms; 1 − α weights CE(S(x), y) (authors: 1)',
  },
  beta: {
    type: 'number',
    default: 0.1,
    min: 0,
    description: "Exponent β of the teacher's trust p_T(x′)_y^β; the student's introspection weighs 1 − trust (authors: 0.1)",
  },
  introspectionEpoch: {
    type: 'number',
    default: 3,
    integer: true,
    min: 0,
    description: 'First epoch (0-based) with the introspection term; before it the loss is plain ARD (authors: 60 of 200 epochs)',
  },
  attackTrainingMode: {
    type: 'boolean',
    default: true,
    description: 'Craft x′ with the student in training mode, as the authors (net.train() around their PGD); false = inference mode',
  },
  ...INNER_MAX_PARAMS,
});

export type IadParams = ParamValues<typeof IAD_PARAMS>;

/**
 * IAD's trust in a teacher at x′: p_T(x′)_y^β per example from the teacher's logits at x′ (left
 * to the caller), a constant weight with no gradient (the authors' `.item()`). Shared by IAD-I and IAD-II.
 */
export function teacherTrust(teacherLogitsAdv: tf.Tensor2D, labels: tf.Tensor1D, beta: number): tf.Tensor1D {
  return tf.tidy(() => tf.pow(tf.sum(tf.mul(softmaxAt(teacherLogitsAdv), tf.oneHot(labels, teacherLogitsAdv.shape[1])), 1), beta) as tf.Tensor1D);
}

/**
 * IAD, Introspective Adversarial Distillation (Zhu, Yao, Han, Zhang, Liu, Niu, Zhou, Xu & Yang
 * 2022, "Reliable Adversarial Distillation with Unreliable Teachers", ICLR), the IAD-I variant of
 * the authors' code (ZFancy/IAD, `IAD-I.py`, `train()`), which builds on ARD:
 *
 * `L = α·τ²·KL(T(x)/τ ‖ S(x′)/τ) + α·(1/B)·Σᵢ (1 − p_T(x′ᵢ)_{yᵢ}^β)·KL(S(xᵢ) ‖ S(x′ᵢ)) + (1 − α)·CE(S(x), y)`
 *
 * x′ = PGD on the student maximising CE(S(x′), y) (the named `innerAttack`, uniform start,
 * student in training mode as their `net.train()`). Partial trust: the teacher's confidence in
 * the true class at x′, raised to β, measures how reliable it is there (held constant, their
 * `.item()`); where the teacher is unsure, the student instead pulls its adversarial prediction
 * towards its own clean one (introspection, gradient through both S(x) and S(x′) as their code).
 * Warm-up: before `introspectionEpoch` the loss is ARD's alone (their `--begin 60` of 200).
 * Reported terms: `teacherKl`, and from `introspectionEpoch` on `introspectionKl` (the weighted
 * mean) and `trust` (mean p_T(x′)_y^β); `ce` when α < 1. Accuracy is the student's on x′.
 *
 * KL normalisation: the authors sum over the classes and divide by the batch
 * (`(1/B)·Σ KLDivLoss(reduce=False).sum(dim=1)`), i.e. the true KL ('batchmean'), as we do.
 *
 * Parameters (defaults, MNIST-scale; the authors' CIFAR-10 values in brackets): `temperature` 1
 * [1], `alpha` 1 [1], `beta` 0.1 [0.1], `introspectionEpoch` 3 [60; 3 of our 10 epochs keeps
 * their 30 % warm-up], `attackTrainingMode` true [true], `innerAttack` 'pgd', `norm` 'linf',
 * `epsilon` 0.3 [8/255], `stepSize` 0.05 [2/255], `steps` 10 [10], `randomStart` true
 * [uniform], `cleanEpochs` 0, `warmupEpochs` 1 [0], `epochs` 10 [200], `optimizer` 'adam',
 * `learningRate` 1e-3 [SGD 0.1, momentum 0.9, weight decay 2e-4, ×0.1 at epoch 100 (their `--lr_schedule 100 150` rescales the initial rate each time, so 150 changes nothing);
 * batch 128]. Teacher: theirs a PGD-AT ResNet-18 or WRN-34-10, student ResNet-18 / MobileNetV2.
 *
 * Departures from their code: the ε warm-up (`warmupEpochs: 0` is theirs); the uniform start is
 * clipped into [0, 1] before the first step; with α = 1 the CE term (weight 0) is not computed;
 * IAD-II (a second, naturally trained teacher on x′, and the trust weighting the teacher term too)
 * is its own method, `iad-ii`.
 *
 * Shapes: inputs [batch, ...inputShape]; logits [batch, classes]; labels int32 [batch].
 *
 * @example
 * ```ts
 * register(container); // @tempered/robust-distillation, plus @tempered/attacks for 'pgd'
 * const iad = createPlugin(container, TOKENS.Method, 'iad', { beta: 0.1, introspectionEpoch: 3 });
 * await iad.setup({ student, teacher, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(iad, { model: 'iad', train, batchSize: 64, seed: 1 });
 * ```
 */
export const IAD = defineMethod({
  name: 'iad',
  description: "IAD (Zhu et al. 2022): ARD with partial trust in the teacher by its confidence on x′, plus the student's introspection",
  teacher: 'required',
  params: IAD_PARAMS,
  prepare: ({ container, train, batchSize }, params) =>
    new ScheduledInnerAttack(container, params, batchesPerEpoch(train.size, batchSize), params.attackTrainingMode),
  async step({ batch: { x, labels }, step, params, student, teacher, prepared: inner, minimize }) {
    const { temperature: tau, alpha, beta, introspectionEpoch } = params;
    const xAdv = await inner.craft(student, x, labels, step);
    const teacherNatural = tf.tidy(() => teacher.logits(x));
    const trust = step.epoch >= introspectionEpoch ? tf.tidy(() => teacherTrust(teacher.logits(xAdv), labels, beta)) : undefined;
    try {
      return minimize((): StepLoss => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const softened = (logits: tf.Tensor2D) => tf.div(logits, tau) as tf.Tensor2D;
        const teacherKl = tf.mul(reduceKl({ targetLogits: softened(teacherNatural), logits: softened(adversarialLogits), reduction: 'batchmean' }), tau * tau) as tf.Scalar;
        const terms: Record<string, tf.Scalar> = { teacherKl };
        let loss = tf.mul(teacherKl, alpha) as tf.Scalar;
        const cleanLogits = trust || alpha < 1 ? student.logits(x, { training: true }) : undefined;
        if (trust) {
          const perExample = klDivergencePerExample({ target: softmaxAt(cleanLogits!), logits: adversarialLogits });
          terms.introspectionKl = tf.mean(tf.mul(tf.sub(1, trust), perExample)) as tf.Scalar;
          terms.trust = tf.mean(trust) as tf.Scalar;
          loss = tf.add(loss, tf.mul(terms.introspectionKl, alpha)) as tf.Scalar;
        }
        if (alpha < 1) {
          terms.ce = crossEntropy(cleanLogits!, labels);
          loss = tf.add(loss, tf.mul(terms.ce, 1 - alpha)) as tf.Scalar;
        }
        return { loss, terms, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      tf.dispose([xAdv, teacherNatural, ...(trust ? [trust] : [])]);
    }
  },
});
