import * as tf from '@tensorflow/tfjs';
import { INNER_MAX_PARAMS, ScheduledInnerAttack, batchesPerEpoch } from '@tempered/attacks';
import { ConfigError, crossEntropy, defineMethod, defineParams, klDivergencePerExample, softmaxAt, type ParamValues, type StepLoss } from '@tempered/core';
import { IAD_PARAMS, teacherTrust } from './iad.js';

export const IAD_II_PARAMS = defineParams({
  temperature: { ...IAD_PARAMS.temperature, description: 'Distillation temperature τ of both teacher terms; τ² scales them and the introspection term (authors: 1)' },
  alpha1: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    description: "Weight α₁ of the robust teacher's trust-weighted KL and the student's introspection (authors: 0.5)",
  },
  alpha2: {
    type: 'number',
    default: 0.25,
    min: 0,
    max: 1,
    description: "Weight α₂ of the clean teacher's KL on x′; 1 − α₁ − α₂ weights CE(S(x′), y), so α₁ + α₂ ≤ 1 (authors: 0.25)",
  },
  beta: IAD_PARAMS.beta,
  introspectionEpoch: {
    ...IAD_PARAMS.introspectionEpoch,
    default: 2,
    description: 'First epoch (0-based) with the trust weighting and the introspection term; before it both teachers count fully (authors: --begin 40 of 200 epochs)',
  },
  attackTrainingMode: IAD_PARAMS.attackTrainingMode,
  ...INNER_MAX_PARAMS,
});

export type IadIiParams = ParamValues<typeof IAD_II_PARAMS>;

/** The teacher roles IAD-II declares: the robust one first (primary: its trust is measured, and reports read it as the teacher). */
export const IAD_II_TEACHERS = {
  robust: 'an adversarially trained teacher, matched on x′ with a weight of its trust p_T(x′)_y^β (e.g. trades)',
  clean: 'a naturally trained teacher, matched on x′ at full weight (e.g. standard)',
} as const;

/**
 * IAD-II, the second variant of Introspective Adversarial Distillation (Zhu, Yao, Han, Zhang, Liu,
 * Niu, Zhou, Xu & Yang 2022, "Reliable Adversarial Distillation with Unreliable Teachers", ICLR),
 * as the authors' `IAD-II.py` (ZFancy/IAD, `train()`): IAD with a second, naturally trained
 * teacher, and the robust teacher's term weighted by its trust too.
 *
 * `L = (1 − α₁ − α₂)·CE(S(x′), y)
 *    + α₁·τ²·(1/B)·Σᵢ [wᵢ·KL(T_r(x′ᵢ)/τ ‖ S(x′ᵢ)/τ) + (1 − wᵢ)·KL(S(xᵢ) ‖ S(x′ᵢ))]
 *    + α₂·τ²·KL(T_c(x′)/τ ‖ S(x′)/τ)`
 *
 * with wᵢ = p_{T_r}(x′ᵢ)_{yᵢ}^β (a constant, their `.item()`) from `introspectionEpoch` on and 1
 * before it, when the introspection term vanishes and both teachers count fully (their `--begin`).
 * x′ = PGD on the student maximising CE(S(x′), y) (the named `innerAttack`, uniform start,
 * student in training mode as their `net.train()`). Unlike IAD-I, both teachers see x′, and CE is
 * on x′. The introspection target S(x) carries gradient, as in their code. Every KL sums over the
 * classes and divides by the batch (the true KL, 'batchmean'), as theirs. Reported terms:
 * `robustKl` (weighted), `cleanKl`, `ce` when α₁ + α₂ < 1, and from `introspectionEpoch` on
 * `introspectionKl` (weighted) and `trust` (mean wᵢ). Accuracy is the student's on x′.
 *
 * Parameters (defaults, MNIST-scale; the authors' CIFAR-10 values in brackets): `temperature` 1
 * [1], `alpha1` 0.5 [0.5], `alpha2` 0.25 [0.25], `beta` 0.1 [0.1], `introspectionEpoch` 2 [40 of
 * 200 epochs; 2 of our 10 keeps their 20 % warm-up], `attackTrainingMode` true [true],
 * `innerAttack` 'pgd', `norm` 'linf', `epsilon` 0.3 [8/255], `stepSize` 0.05 [2/255], `steps` 10
 * [10], `randomStart` true [uniform], `cleanEpochs` 0, `warmupEpochs` 1 [0], `epochs` 10 [200],
 * `optimizer` Adam 1e-3 and `schedule` constant (the defaults of every method) [SGD 0.1, momentum 0.9, weight decay 2e-4,
 * ×0.1 at epoch 100 (their `--lr_schedule 100 150` rescales the initial rate each time, so 150 changes nothing); batch 128]. Teachers: theirs a PGD-AT and a naturally trained
 * ResNet-18; students ResNet-18 or MobileNetV2.
 *
 * Departures from their code: the ε warm-up (`warmupEpochs: 0` is theirs); the uniform start is
 * clipped into [0, 1] before the first step; α₁ + α₂ > 1 is refused (their code would weigh CE
 * negatively); the CE term is not computed when its weight is 0.
 *
 * Shapes: inputs [batch, ...inputShape]; logits [batch, classes]; labels int32 [batch].
 *
 * @example
 * ```ts
 * register(container); // @tempered/robust-distillation, plus @tempered/attacks for 'pgd'
 * const iad2 = createPlugin(container, TOKENS.Method, 'iad-ii', { alpha1: 0.5, alpha2: 0.25, introspectionEpoch: 2 });
 * await iad2.setup({ student, teacher: robust, teachers: { robust, clean }, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(iad2, { model: 'iad-ii', train, batchSize: 64, seed: 1 });
 * ```
 * In a run config the student names both: `teachers: { robust: teacher, clean: clean-teacher }`.
 */
export const IAD_II = defineMethod({
  name: 'iad-ii',
  description: 'IAD-II (Zhu et al. 2022): IAD with a second, naturally trained teacher on x′ and trust weighting the robust teacher',
  teacher: 'required',
  teachers: IAD_II_TEACHERS,
  adversarial: true,
  params: IAD_II_PARAMS,
  prepare: ({ container, train, batchSize }, params) => {
    if (params.alpha1 + params.alpha2 > 1 + 1e-9) {
      throw new ConfigError('iad-ii.alpha2', `α₁ + α₂ must be at most 1 (1 − α₁ − α₂ weights CE), got ${params.alpha1} + ${params.alpha2}`);
    }
    return new ScheduledInnerAttack(container, params, batchesPerEpoch(train.size, batchSize), params.attackTrainingMode);
  },
  async step({ batch: { x, labels }, step, params, student, teachers, prepared: inner, minimize }) {
    const { temperature: tau, alpha1, alpha2, beta, introspectionEpoch } = params;
    const xAdv = await inner.craft(student, x, labels, step);
    const robustLogits = tf.tidy(() => teachers.robust!.logits(xAdv));
    const cleanLogits = tf.tidy(() => teachers.clean!.logits(xAdv));
    const trust = step.epoch >= introspectionEpoch ? teacherTrust(robustLogits, labels, beta) : undefined;
    try {
      return minimize((): StepLoss => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const matched = (teacherLogits: tf.Tensor2D) => klDivergencePerExample({ target: softmaxAt(teacherLogits, tau), logits: tf.div(adversarialLogits, tau) as tf.Tensor2D });
        const robustPerExample = matched(robustLogits);
        const terms: Record<string, tf.Scalar> = {
          robustKl: tf.mean(trust ? tf.mul(trust, robustPerExample) : robustPerExample) as tf.Scalar,
          cleanKl: tf.mean(matched(cleanLogits)) as tf.Scalar,
        };
        let robustPart: tf.Scalar = terms.robustKl!;
        if (trust) {
          const cleanStudent = student.logits(x, { training: true });
          const introspection = klDivergencePerExample({ target: softmaxAt(cleanStudent), logits: adversarialLogits });
          terms.introspectionKl = tf.mean(tf.mul(tf.sub(1, trust), introspection)) as tf.Scalar;
          terms.trust = tf.mean(trust) as tf.Scalar;
          robustPart = tf.add(robustPart, terms.introspectionKl) as tf.Scalar;
        }
        let loss = tf.add(tf.mul(robustPart, alpha1 * tau * tau), tf.mul(terms.cleanKl!, alpha2 * tau * tau)) as tf.Scalar;
        const ceWeight = 1 - alpha1 - alpha2;
        if (ceWeight > 1e-9) {
          terms.ce = crossEntropy(adversarialLogits, labels);
          loss = tf.add(loss, tf.mul(terms.ce, ceWeight)) as tf.Scalar;
        }
        return { loss, terms, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      tf.dispose([xAdv, robustLogits, cleanLogits, ...(trust ? [trust] : [])]);
    }
  },
});
