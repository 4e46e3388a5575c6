import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { ConfigError, TOKENS, assertCompatible, defineParams, optimizeStep } from '@tempered/core';
import type { MethodSetup, ParamValues, Teacher } from '@tempered/core';
import { KdLoss } from '../losses/kd.js';
import { OPTIMIZER_SETTINGS, optimizerFrom } from '../training-params.js';
import { OnePhaseMethod } from './one-phase.js';

export const KD_PARAMS = defineParams({
  temperature: { type: 'number', default: 4, greaterThan: 0, description: 'Softmax temperature T of the distillation term' },
  alpha: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Weight α of the T²-scaled KL term; 1 − α weighs the hard-label cross-entropy' },
  epochs: { type: 'number', default: 50, min: 1, integer: true, description: 'Training epochs' },
  ...OPTIMIZER_SETTINGS,
});

export type KdParams = ParamValues<typeof KD_PARAMS>;

/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
 * Network"): the student imitates the run's (frozen) teacher. The non-robust distillation
 * baseline against which robust distillation methods are compared.
 *
 * Loss (the `kd` loss): `α · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α) · CE(softmax(s), y)`,
 * KL direction teacher ‖ student, "batchmean" reduction; one phase "student".
 *
 * Parameters (defaults): `temperature` 4 (> 0), `alpha` 0.9 (∈ [0, 1]), `epochs` 50,
 * `optimizer` 'adam' | 'sgd' | 'momentum' ('adam'), `learningRate` 1e-3, `momentum` 0.9.
 * Requires the run teacher (`teacher: 'required'`); its logits are computed in inference mode,
 * outside the gradient tape.
 *
 * Shapes: inputs [batch, ...inputShape]; student and teacher logits [batch, numClasses].
 *
 * @example
 * ```ts
 * const method = createPlugin(container, TOKENS.Method, 'kd', { temperature: 4, alpha: 0.9, epochs: 10 });
 * await method.setup({ student, teacher, createModel, train, batchSize: 128, seed: 1, container });
 * await new Trainer().run(method, { model: 'kd-student', train, batchSize: 128, seed: 1 });
 * ```
 */
@injectable()
export class KnowledgeDistillation extends OnePhaseMethod<typeof KD_PARAMS> {
  readonly teacher = 'required' as const;
  private runTeacher: Teacher | undefined;

  /** Parameters are validated here and in `setParams` (they take effect at the next {@link setup}). */
  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    super('kd', KD_PARAMS, params);
  }

  setup(setup: MethodSetup): void {
    this.release();
    const teacher = setup.teacher;
    if (!teacher) throw new ConfigError(`${this.name}.teacher`, 'expected the run to supply a teacher (knowledge distillation imitates one)');
    const student = setup.student;
    assertCompatible(teacher, student);
    const optimizer = optimizerFrom(this.name, this.values);
    const { temperature, alpha } = this.values;
    const loss = new KdLoss({ alpha, temperature });
    this.student = student;
    this.runTeacher = teacher;
    this.optimizer = optimizer;
    this.phaseList = [
      {
        name: 'student',
        model: student,
        epochs: this.values.epochs,
        optimizer,
        trainStep: (batch, context) => {
          const teacherLogits = tf.tidy(() => teacher.logits(batch.x, { training: false }));
          try {
            return optimizeStep(optimizer, student.trainableVariables(), () => {
              const logits = student.logits(batch.x, { training: true });
              const { loss: value, kl, ce } = loss.parts({
                x: batch.x,
                labels: batch.labels,
                student: { logits },
                teacher: { logits: teacherLogits },
                temperature,
                epoch: context.epoch,
                step: context.step,
              });
              return { loss: value, terms: { kl, ce }, logits, labels: batch.labels, accuracyOn: 'clean' };
            });
          } finally {
            teacherLogits.dispose();
          }
        },
      },
    ];
  }

  /** The run's teacher (owned by the run: not disposed here). */
  teacherModel(): Teacher | undefined {
    return this.runTeacher;
  }

  protected override release(): void {
    super.release();
    this.runTeacher = undefined;
  }
}
