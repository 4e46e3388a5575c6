import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import {
  ConfigError,
  TOKENS,
  assertCompatible,
  createPlugin,
  defineParams,
  optimizeStep,
  validateParams,
  type Loss,
  type MethodSetup,
  type ParamValues,
  type StepContext,
  type StepResult,
  type TrainingBatch,
} from '@tempered/core';
import { AdversarialTrainingMethod, type PreparedRun } from './adversarial-method.js';
import { ARD_LOSS_PARAMS, ArdLoss } from './ard-loss.js';
import { INNER_MAX_PARAMS, TRAINING_PARAMS } from './inner-maximization.js';

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
  ...TRAINING_PARAMS,
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
 * with the teacher on clean x only. One phase, "student". Reported terms: `kl` and, when
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
 * - `epochs` 10, `optimizer` 'adam', `learningRate` 1e-3 [SGD 0.1, momentum 0.9, 200 epochs]
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
@injectable()
export class ArdMethod extends AdversarialTrainingMethod<ArdParams> {
  readonly name = 'ard';
  readonly teacher = 'required' as const;
  private readonly loss: ArdLoss;
  /** The registered loss named by `distillationLoss`, when it is not the built-in 'ard'. */
  private replacement?: Loss;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    super(validateParams('ard', ARD_PARAMS, params));
    this.loss = new ArdLoss({ alpha: this.values.alpha, klReduction: this.values.klReduction });
  }

  protected check({ student, teacher, container }: MethodSetup): void {
    if (!teacher) throw new ConfigError('ard.teacher', 'ARD distils from a teacher; the run must supply one');
    assertCompatible(teacher, student);
    const name = this.values.distillationLoss;
    this.replacement = name === 'ard' ? undefined : (createPlugin(container, TOKENS.Loss, name, {}) as Loss);
  }

  protected override attackInTrainingMode(): boolean {
    return this.values.attackTrainingMode;
  }

  protected async trainStep(batch: TrainingBatch, step: StepContext, run: PreparedRun): Promise<StepResult> {
    const { student, inner, optimizer } = run;
    const teacher = run.teacher!;
    const { x, labels } = batch;
    const { temperature, alpha } = this.values;
    const xAdv = await inner!.craft(student, x, labels, step);
    const teacherLogits = tf.tidy(() => teacher.logits(x));
    try {
      return optimizeStep(optimizer, student.trainableVariables(), () => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        // The authors always compute S(x); with α = 1 its term has weight 0, so we skip it.
        const cleanLogits = alpha < 1 ? student.logits(x, { training: true }) : undefined;
        const context = {
          x,
          xAdv,
          labels,
          teacher: { logits: teacherLogits },
          studentAdv: { logits: adversarialLogits },
          student: cleanLogits ? { logits: cleanLogits } : undefined,
          temperature,
          epoch: step.epoch,
          step: step.step,
        };
        if (this.replacement) {
          const loss = this.replacement.compute(context);
          return { loss, terms: { [this.values.distillationLoss]: loss }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
        }
        const { loss, terms } = this.loss.computeTerms(context);
        return { loss, terms, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      xAdv.dispose();
      teacherLogits.dispose();
    }
  }
}
