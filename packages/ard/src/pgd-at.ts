import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import {
  ConfigError,
  TOKENS,
  createOptimizer,
  crossEntropy,
  defineParams,
  optimizeStep,
  validateParams,
  type Attack,
  type DistillationMethod,
  type MethodSetup,
  type ParamValues,
  type StepContext,
  type StepLoss,
  type StepResult,
  type Student,
  type TrainingBatch,
  type TrainingPhase,
} from '@tempered/core';
import { INNER_MAX_PARAMS, TRAINING_PARAMS, craftAdversarial, createInnerAttack } from './inner-maximization.js';

export const PGD_AT_PARAMS = defineParams({
  cleanWeight: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    description: 'Weight w of clean cross-entropy: (1 − w)·CE(S(x′), y) + w·CE(S(x), y); Madry et al.: 0',
  },
  ...INNER_MAX_PARAMS,
  ...TRAINING_PARAMS,
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
 * CIFAR-10: ε 8/255, 7 × 2/255); `epochs` 10, `optimizer` 'adam', `learningRate` 1e-3.
 * Reported terms: `adversarialCe` and, when w > 0, `cleanCe`.
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
@injectable()
export class PgdAtMethod implements DistillationMethod {
  readonly name = 'pgd-at';
  readonly teacher = 'none' as const;
  private readonly values: PgdAtParams;
  private context?: { student: Student; attack: Attack; phase: TrainingPhase; optimizer: tf.Optimizer };

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('pgd-at', PGD_AT_PARAMS, params);
  }

  setup(setup: MethodSetup): void {
    const attack = createInnerAttack(setup.container, this.values);
    const optimizer = createOptimizer({ name: this.values.optimizer, learningRate: this.values.learningRate }, 'pgd-at.optimizer');
    const phase: TrainingPhase = {
      name: 'student',
      model: setup.student,
      epochs: this.values.epochs,
      optimizer,
      trainStep: (batch, step) => this.trainStep(batch, step),
    };
    this.context = { student: setup.student, attack, phase, optimizer };
  }

  private async trainStep(batch: TrainingBatch, step: StepContext): Promise<StepResult> {
    const { student, attack, optimizer } = this.ready();
    const { x, labels } = batch;
    const w = this.values.cleanWeight;
    const xAdv = await craftAdversarial(attack, student, x, labels, step.rng);
    try {
      return optimizeStep(optimizer, student.trainableVariables(), (): StepLoss => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const adversarialCe = crossEntropy(adversarialLogits, labels);
        if (w === 0) return { loss: adversarialCe, terms: { adversarialCe }, logits: adversarialLogits, labels };
        const cleanCe = crossEntropy(student.logits(x, { training: true }), labels);
        const loss = tf.add(tf.mul(adversarialCe, 1 - w), tf.mul(cleanCe, w)) as tf.Scalar;
        return { loss, terms: { adversarialCe, cleanCe }, logits: adversarialLogits, labels };
      });
    } finally {
      xAdv.dispose();
    }
  }

  private ready() {
    if (!this.context) throw new ConfigError('pgd-at.setup', 'call setup() before training');
    return this.context;
  }

  phases(): readonly TrainingPhase[] {
    return [this.ready().phase];
  }

  result(): Student {
    return this.ready().student;
  }

  params(): Record<string, unknown> {
    return { ...this.values };
  }

  /** Releases the optimiser's state; the student belongs to the caller. */
  dispose(): void {
    this.context?.optimizer.dispose();
    this.context = undefined;
  }
}
