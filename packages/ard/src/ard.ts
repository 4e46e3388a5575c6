import * as tf from '@tensorflow/tfjs';
import { TOKENS, batchesPerEpoch, createPlugin, defineMethod, defineParams, type Loss, type ParamValues } from '@tempered/core';
import { INNER_MAX_PARAMS, ScheduledInnerAttack } from '@tempered/attacks';
import { ARD_LOSS_PARAMS, ArdLoss } from './ard-loss.js';

export const ARD_PARAMS = defineParams({
  temperature: { type: 'number', default: 30, greaterThan: 0, description: 'Distillation temperature T (authors: 30)' },
  ...ARD_LOSS_PARAMS,
  distillationLoss: {
    type: 'string',
    default: 'ard',
    description: "Loss slot of the objective: 'ard' (alpha, klReduction above) or any loss registered under TOKENS.Loss, with its own defaults",
  },
  attackTrainingMode: {
    type: 'boolean',
    default: true,
    description:
      'Craft x′ with the student in training mode, as the authors (net.train()): batch-norm uses batch statistics and updates its moving averages, dropout draws a mask per iteration; false = inference mode',
  },
  ...INNER_MAX_PARAMS,
});

export type ArdParams = ParamValues<typeof ARD_PARAMS>;

/**
 * Adversarially Robust Distillation (Goldblum, Fowl, Feizi & Goldstein 2020, AAAI), as in the
 * authors' code: per batch, PGD on the *student* maximises CE(S(x′), y) against the hard labels
 * (inner maximisation, student in training mode as the authors' `net.train()`; see
 * `attackTrainingMode`), then the student minimises
 *
 * `α·T²·KL(softmax(T(x)/T) ‖ softmax(S(x′)/T)) + (1 − α)·CE(S(x), y)` (the `ard` loss)
 *
 * with the teacher on clean x only. One phase, `train`. Reported terms: `kl` and, when
 * α < 1, `ce`; accuracy is the student's on x′ (robust training accuracy).
 *
 * Parameters (defaults; authors' CIFAR-10 values in brackets):
 * - `temperature` 30 [30], `alpha` 1 [1], `klReduction` 'batchmean' ['elementwise-mean',
 *   i.e. PyTorch's nn.KLDivLoss() mean over B·C elements: C times smaller, see {@link ArdLoss}]
 * - `innerAttack` 'pgd' (any attack registered under TOKENS.Attack), `norm` 'linf',
 *   `epsilon` 0.3 [8/255], `stepSize` 0.05 [2/255], `steps` 10 [10], `randomStart` true [true]
 * - `attackTrainingMode` true [true: the authors call `net.train()` before the attack]. In
 *   training mode every attack iteration normalises batch-norm layers with the statistics of the
 *   current (perturbed) batch and moves their running averages towards them, and dropout layers
 *   draw a fresh mask per iteration, so x′ is crafted against a noisier, batch-dependent model.
 *   `false` crafts against the inference-mode student (running statistics, no dropout), as
 *   evaluation-time attacks do, and leaves the running statistics untouched. Models without
 *   batch-norm or dropout (e.g. `papernot-mnist`, `mlp`) give the same x′ either way.
 * - `distillationLoss` 'ard' (the loss slot: any loss registered under TOKENS.Loss replaces the
 *   objective, with that loss's own defaults; it sees teacher(x), student(x′) and, when α < 1, student(x))
 * - `cleanEpochs` 0, `warmupEpochs` 1 [0: full ε from the start]: ε and step size ramp linearly
 *   over the first epoch so a short budget at MNIST's ε = 0.3 leaves chance
 * - `epochs` 10 [200]; core's `optimizer` Adam 1e-3 [momentum 0.9, lr 0.1, weight decay 2e-4]
 *   and `schedule` constant [×0.1 at epochs 100 and 150]: examples/recipes/ard-cifar10.yaml
 *
 * Shapes: inputs [batch, ...inputShape]; teacher and student logits [batch, classes].
 *
 * @example
 * ```ts
 * register(container); // @tempered/ard, plus @tempered/attacks for 'pgd'
 * const ard = createPlugin(container, TOKENS.Method, 'ard', { epsilon: 0.3, temperature: 30, alpha: 1 });
 * await ard.setup({ student, teacher, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(ard, { model: 'ard', train, batchSize: 64, seed: 1 });
 * ```
 */
export const ARD = defineMethod({
  name: 'ard',
  description: 'Adversarially Robust Distillation (Goldblum et al. 2020): PGD on the student, T²-scaled KL to the clean-input teacher',
  teacher: 'required',
  adversarial: true,
  params: ARD_PARAMS,
  prepare: ({ container, train, batchSize }, params) => ({
    inner: new ScheduledInnerAttack(container, params, batchesPerEpoch(train.size, batchSize), params.attackTrainingMode),
    objective: new ArdLoss({ alpha: params.alpha, klReduction: params.klReduction }),
    // The registered loss named by `distillationLoss`, when it is not the built-in 'ard'.
    replacement: params.distillationLoss === 'ard' ? undefined : (createPlugin(container, TOKENS.Loss, params.distillationLoss, {}) as Loss),
  }),
  async step({ batch: { x, labels }, step, params, student, teacher, prepared: { inner, objective, replacement }, minimize }) {
    const { temperature, alpha } = params;
    const xAdv = await inner.craft(student, x, labels, step);
    const teacherLogits = tf.tidy(() => teacher.logits(x));
    try {
      return minimize(() => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        // The authors always compute S(x); with α = 1 its term has weight 0, so we skip it.
        const cleanLogits = alpha < 1 ? student.logits(x, { training: true }) : undefined;
        const context = {
          x, xAdv, labels,
          teacher: { logits: teacherLogits },
          studentAdv: { logits: adversarialLogits },
          student: cleanLogits ? { logits: cleanLogits } : undefined,
          temperature, epoch: step.epoch, step: step.step,
        };
        if (replacement) {
          const loss = replacement.compute(context);
          return { loss, terms: { [params.distillationLoss]: loss }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
        }
        const { loss, terms } = objective.computeTerms(context);
        return { loss, terms, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      xAdv.dispose();
      teacherLogits.dispose();
    }
  },
});
