import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, optimizeStep } from '@tempered/core';
import type { MethodSetup, ParamValues } from '@tempered/core';
import { CeAtTemperatureLoss } from '../losses/ce-at-temperature.js';
import { OPTIMIZER_SETTINGS, optimizerFrom } from '../training-params.js';
import { OnePhaseMethod } from './one-phase.js';

export const STANDARD_PARAMS = defineParams({
  epochs: { type: 'number', default: 50, min: 1, integer: true, description: 'Training epochs' },
  ...OPTIMIZER_SETTINGS,
});

export type StandardParams = ParamValues<typeof STANDARD_PARAMS>;

/**
 * Standard training: the undefended baseline of every distillation comparison (Papernot et al.
 * 2016 compare defensive distillation against exactly this model).
 *
 * Loss: `CE(softmax(z), y)`, the `ce-at-temperature` loss at T = 1, in one phase "student".
 *
 * Parameters (defaults): `epochs` 50, `optimizer` 'adam' | 'sgd' | 'momentum' ('adam'),
 * `learningRate` 1e-3, `momentum` 0.9.
 *
 * Shapes: inputs [batch, ...inputShape], logits [batch, numClasses], labels int32 [batch].
 *
 * @example
 * ```ts
 * const method = createPlugin(container, TOKENS.Method, 'standard', { epochs: 10 });
 * await method.setup({ student, createModel, train, batchSize: 128, seed: 1, container });
 * await new Trainer().run(method, { model: 'baseline', train, batchSize: 128, seed: 1 });
 * ```
 */
@injectable()
export class StandardTraining extends OnePhaseMethod<typeof STANDARD_PARAMS> {
  readonly teacher = 'none' as const;
  private readonly loss = new CeAtTemperatureLoss({ temperature: 1 });

  /** Parameters are validated here and in `setParams` (they take effect at the next {@link setup}). */
  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    super('standard', STANDARD_PARAMS, params);
  }

  setup(setup: MethodSetup): void {
    this.release();
    const student = setup.student;
    const optimizer = optimizerFrom(this.name, this.values);
    this.student = student;
    this.optimizer = optimizer;
    this.phaseList = [
      {
        name: 'student',
        model: student,
        epochs: this.values.epochs,
        optimizer,
        trainStep: (batch, context) =>
          optimizeStep(optimizer, student.trainableVariables(), () => {
            const logits = student.logits(batch.x, { training: true });
            const loss = this.loss.compute({
              x: batch.x,
              labels: batch.labels,
              student: { logits },
              temperature: 1,
              epoch: context.epoch,
              step: context.step,
            });
            return { loss, terms: { ce: loss }, logits, labels: batch.labels, accuracyOn: 'clean' };
          }),
      },
    ];
  }
}
