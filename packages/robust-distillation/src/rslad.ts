import * as tf from '@tensorflow/tfjs';
import { EpsilonSchedule, WALK_PARAMS, batchesPerEpoch, klWalk } from '@tempered/attacks';
import { defineMethod, defineParams, type ParamValues, type StepLoss } from '@tempered/core';
import { klReductionParam, reduceKl } from './kl.js';

export const RSLAD_PARAMS = defineParams({
  adversarialWeight: {
    type: 'number',
    default: 5 / 6,
    min: 0,
    max: 1,
    description: 'Weight w of KL(T(x) ‖ S(x′)); 1 − w weights KL(T(x) ‖ S(x)) (authors: 5/6)',
  },
  ...klReductionParam('elementwise-mean', "The RSLAD code: torch.mean over B·C elements ('elementwise-mean')."),
  ...WALK_PARAMS,
});

export type RsladParams = ParamValues<typeof RSLAD_PARAMS>;

/**
 * RSLAD, Robust Soft Label Adversarial Distillation (Zi, Zhao, Ma & Jiang 2021, "Revisiting
 * Adversarial Robustness Distillation: Robust Soft Labels Make Student Better", ICCV),
 * as in the authors' code (zibojia/RSLAD, `resnet18_rslad_cifar10.py` and `rslad_loss.py`):
 *
 * `L = w·KL(T(x) ‖ S(x′)) + (1 − w)·KL(T(x) ‖ S(x))`, x′ = argmax_{‖x′−x‖∞≤ε} KL(T(x) ‖ S(x′))
 *
 * The robust teacher's soft labels on *clean* x replace the hard labels everywhere: in both
 * outer terms and in the inner maximisation, a KL walk (`klWalk` of @tempered/attacks) from x + 0.001·N(0, I)
 * with sign steps, student in inference mode (their `model.eval()`), teacher logits held fixed.
 * KL direction: the paper writes KL(S, T), the code calls `kl(log_softmax(S), softmax(T))`, i.e.
 * Σ p_T log(p_T / p_S), teacher first, which is what we compute. T = 1 (no temperature).
 * Reported terms: `adversarialKl`, `naturalKl` (as reduced); accuracy is the student's on x′.
 *
 * KL normalisation: the authors reduce with `torch.mean` over all B·C elements, the true KL
 * divided by C = 10 (their README warns that `nn.KLDivLoss()` does the same and multiplies by 10
 * on CIFAR-100 to match CIFAR-10); `klReduction: 'elementwise-mean'` (default) is theirs,
 * 'batchmean' the true KL. With Adam the factor only rescales the loss; with SGD and weight decay
 * it changes the effective learning rate and decay strength.
 *
 * Parameters (defaults, MNIST-scale; the authors' CIFAR-10 values in brackets): `adversarialWeight`
 * 5/6 [5/6], `klReduction` 'elementwise-mean' [same], `norm` 'linf', `epsilon` 0.3 [8/255],
 * `stepSize` 0.05 [2/255], `steps` 10 [10], `start` 'gaussian' [x + 0.001·N(0, I)],
 * `cleanEpochs` 0, `warmupEpochs` 1 [0: full ε at once], `epochs` 10 [300], `optimizer` 'adam',
 * `learningRate` 1e-3 [SGD 0.1, momentum 0.9, weight decay 2e-4, ×0.1 at epochs 215, 260, 285;
 * batch 128]. Teacher: theirs a TRADES WRN-34-10, student ResNet-18 / MobileNetV2.
 *
 * Departures from their code: the ε warm-up (`warmupEpochs: 0` is theirs); the Gaussian start is
 * clipped into [0, 1] before the first step; their KL adds 1e-5 inside log p_T, ours is exact;
 * Adam by default until the optimiser/schedule parameters land.
 *
 * Shapes: inputs [batch, ...inputShape]; teacher and student logits [batch, classes].
 *
 * @example
 * ```ts
 * register(container); // @tempered/robust-distillation
 * const rslad = createPlugin(container, TOKENS.Method, 'rslad', { epsilon: 0.3 });
 * await rslad.setup({ student, teacher, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(rslad, { model: 'rslad', train, batchSize: 64, seed: 1 });
 * ```
 */
export const RSLAD = defineMethod({
  name: 'rslad',
  description: 'RSLAD (Zi et al. 2021): robust soft labels of the teacher on clean x, in the KL walk and both KL terms',
  teacher: 'required',
  params: RSLAD_PARAMS,
  prepare: ({ train, batchSize }, params) => new EpsilonSchedule(params, batchesPerEpoch(train.size, batchSize)),
  step({ batch: { x, labels }, step, params, student, teacher, prepared: schedule, minimize }) {
    const { adversarialWeight: w, klReduction } = params;
    const teacherLogits = tf.tidy(() => teacher.logits(x));
    const xAdv = klWalk({ model: student, target: teacherLogits, x, walk: { ...params, ...schedule.budget(step) }, rng: step.rng });
    try {
      return minimize((): StepLoss => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const adversarialKl = reduceKl({ targetLogits: teacherLogits, logits: adversarialLogits, reduction: klReduction });
        const naturalKl = reduceKl({ targetLogits: teacherLogits, logits: student.logits(x, { training: true }), reduction: klReduction });
        const loss = tf.add(tf.mul(adversarialKl, w), tf.mul(naturalKl, 1 - w)) as tf.Scalar;
        return { loss, terms: { adversarialKl, naturalKl }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      xAdv.dispose();
      teacherLogits.dispose();
    }
  },
});
