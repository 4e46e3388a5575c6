import * as tf from '@tensorflow/tfjs';
import { defineMethod, defineParams, type ParamValues } from '@tempered/core';
import { KdLoss } from '@tempered/defensive-distillation';

export const KD_PARAMS = defineParams({
  temperature: { type: 'number', default: 4, greaterThan: 0, description: 'Softmax temperature T of the distillation term' },
  alpha: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Weight α of the T²-scaled KL term; 1 − α weighs the hard-label cross-entropy' },
  epochs: { type: 'number', default: 50, min: 1, integer: true, description: 'Training epochs' },
});

export type KdParams = ParamValues<typeof KD_PARAMS>;

/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
 * Network"): the student imitates the run's (frozen) teacher. The non-robust distillation
 * baseline against which robust distillation methods are compared.
 *
 * Loss (the `kd` loss): `α · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α) · CE(softmax(s), y)`,
 * KL direction teacher ‖ student, "batchmean" reduction; one phase, `train`. Reported terms: `kl`, `ce`.
 *
 * Parameters (defaults): `temperature` 4 (> 0), `alpha` 0.9 (∈ [0, 1]), `epochs` 50; core's
 * `optimizer` (Adam 1e-3) and `schedule` (constant). Requires the run teacher; its logits are
 * computed in inference mode, outside the gradient tape.
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
export const KD = defineMethod({
  name: 'kd',
  description: 'Hinton et al. 2015 knowledge distillation from the run teacher',
  teacher: 'required',
  adversarial: false,
  params: KD_PARAMS,
  prepare: (_setup, { alpha, temperature }) => new KdLoss({ alpha, temperature }),
  step({ batch: { x, labels }, step, params: { temperature }, student, teacher, prepared: loss, minimize }) {
    const teacherLogits = tf.tidy(() => teacher.logits(x, { training: false }));
    try {
      return minimize(() => {
        const logits = student.logits(x, { training: true });
        const { loss: value, kl, ce } = loss.parts({
          x, labels, student: { logits }, teacher: { logits: teacherLogits }, temperature, epoch: step.epoch, step: step.step,
        });
        return { loss: value, terms: { kl, ce }, logits, labels, accuracyOn: 'clean' };
      });
    } finally {
      teacherLogits.dispose();
    }
  },
});
