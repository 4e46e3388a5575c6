import * as tf from '@tensorflow/tfjs';
import { EpsilonSchedule, WALK_PARAMS, batchesPerEpoch, klWalk } from '@tempered/attacks';
import { defineMethod, defineParams, type ParamValues, type StepLoss } from '@tempered/core';
import { klReductionParam, reduceKl } from './kl.js';

export const ADAAD_PARAMS = defineParams({
  alpha: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    description: 'Weight α of KL(T(x′) ‖ S(x′)); 1 − α weights KL(T(x) ‖ S(x)) (authors: 1)',
  },
  ...klReductionParam('elementwise-mean', "The AdaAD code: nn.KLDivLoss() default on CIFAR-10 ('elementwise-mean'), batchmean on CIFAR-100."),
  ...WALK_PARAMS,
});

export type AdaadParams = ParamValues<typeof ADAAD_PARAMS>;

/**
 * AdaAD, Adaptive Adversarial Distillation (Huang et al. 2023, "Boosting Accuracy and
 * Robustness of Student Models via Adaptive Adversarial Distillation", CVPR), as in the
 * authors' code (boyellow/AdaAD, `main.py` method 'AdaAD' and `AT_helper.adaad_inner_loss`):
 *
 * `L = α·KL(T(x′) ‖ S(x′)) + (1 − α)·KL(T(x) ‖ S(x))`, x′ = argmax_{‖x′−x‖∞≤ε} KL(T(x′) ‖ S(x′))
 *
 * The teacher joins the inner maximisation: the walk (`klWalk` of @tempered/attacks, the teacher as target)
 * looks for the input where the two models disagree most, evaluating the teacher at each iterate
 * and following the gradient through both models (theirs: `kl(log_softmax(S(x′)),
 * softmax(T(x′))).sum()` under `enable_grad`, nothing detached), from x + 0.001·N(0, I), sign
 * steps, student and teacher in inference mode (their `BN_eval=True`). The outer loss holds the
 * teacher's outputs fixed (their `torch.no_grad()`), so only the student learns; the teacher
 * matches the student to *its own* prediction at x′ (adaptive soft labels) rather than to T(x).
 * Reported terms: `adversarialKl` and, when α < 1, `naturalKl`; accuracy is the student's on x′.
 *
 * KL normalisation: their CIFAR-10 branch uses `nn.KLDivLoss()` with PyTorch's default 'mean',
 * the true KL divided by C (their CIFAR-100 branch uses batchmean, (1/B)·Σ); the inner walk sums
 * (any reduction gives the same sign steps). `klReduction: 'elementwise-mean'` (default) is their
 * CIFAR-10 choice, 'batchmean' the true KL.
 *
 * Parameters (defaults, MNIST-scale; the authors' CIFAR-10 values in brackets): `alpha` 1 [1],
 * `klReduction` 'elementwise-mean' [same], `norm` 'linf', `epsilon` 0.3 [8/255; their README
 * also trains with a larger search radius, 16/255 with step 4/255, paper §3.4 and §4.2: the
 * walk may range beyond the evaluation ε], `stepSize` 0.05 [2/255],
 * `steps` 10 [10], `start` 'gaussian' [x + 0.001·N(0, I)], `cleanEpochs` 0, `warmupEpochs` 1
 * [0], `epochs` 10 [200], `optimizer` 'adam', `learningRate` 1e-3 [SGD 0.1, momentum 0.9,
 * weight decay 5e-4, ×0.1 at epochs 100 and 150; batch 128]. Teacher: theirs a robust
 * WRN-34-10 (PGD-AT) or WRN-34-20 (Chen et al. 2021), student ResNet-18 / MobileNetV2.
 *
 * Departures from their code: the ε warm-up (`warmupEpochs: 0` is theirs); the Gaussian start is
 * clipped into [0, 1] before the first step; with α = 1 we skip computing S(x) and T(x), whose
 * term has weight 0; Adam by default until the optimiser/schedule parameters land.
 *
 * Shapes: inputs [batch, ...inputShape]; teacher and student logits [batch, classes].
 *
 * @example
 * ```ts
 * register(container); // @tempered/robust-distillation
 * const adaad = createPlugin(container, TOKENS.Method, 'adaad', { epsilon: 0.3, alpha: 1 });
 * await adaad.setup({ student, teacher, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(adaad, { model: 'adaad', train, batchSize: 64, seed: 1 });
 * ```
 */
export const ADAAD = defineMethod({
  name: 'adaad',
  description: 'AdaAD (Huang et al. 2023): the teacher joins the inner maximisation of KL(T(x′) ‖ S(x′))',
  teacher: 'required',
  params: ADAAD_PARAMS,
  prepare: ({ train, batchSize }, params) => new EpsilonSchedule(params, batchesPerEpoch(train.size, batchSize)),
  step({ batch: { x, labels }, step, params, student, teacher, prepared: schedule, minimize }) {
    const { alpha, klReduction } = params;
    const xAdv = klWalk({ model: student, target: teacher, x, walk: { ...params, ...schedule.budget(step) }, rng: step.rng });
    const teacherAdversarial = tf.tidy(() => teacher.logits(xAdv));
    const teacherNatural = alpha < 1 ? tf.tidy(() => teacher.logits(x)) : undefined;
    try {
      return minimize((): StepLoss => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const adversarialKl = reduceKl({ targetLogits: teacherAdversarial, logits: adversarialLogits, reduction: klReduction });
        if (!teacherNatural) return { loss: adversarialKl, terms: { adversarialKl }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
        const naturalKl = reduceKl({ targetLogits: teacherNatural, logits: student.logits(x, { training: true }), reduction: klReduction });
        const loss = tf.add(tf.mul(adversarialKl, alpha), tf.mul(naturalKl, 1 - alpha)) as tf.Scalar;
        return { loss, terms: { adversarialKl, naturalKl }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      tf.dispose([xAdv, teacherAdversarial, ...(teacherNatural ? [teacherNatural] : [])]);
    }
  },
});
