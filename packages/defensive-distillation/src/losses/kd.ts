import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { ConfigError, TOKENS, crossEntropy, defineParams, klDivergence, softmaxAt, validateParams } from '@tempered/core';
import type { Loss, LossContext, ParamValues } from '@tempered/core';
import { LOSS_TEMPERATURE_PARAM, resolveTemperature, studentLogits } from './ce-at-temperature.js';

export const KD_LOSS_PARAMS = defineParams({
  alpha: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Weight α of the distillation (KL) term; 1 − α weighs the hard-label cross-entropy' },
  ...LOSS_TEMPERATURE_PARAM,
});

/**
 * Knowledge-distillation loss (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a
 * Neural Network").
 *
 * Loss: `α · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α) · CE(softmax(s), y)`.
 *
 * - Direction: KL(teacher ‖ student) = Σ_k p_k (log p_k − log q_k) with p = softmax(t/T) (teacher,
 *   the target) and q = softmax(s/T) (student), as PyTorch's `F.kl_div(log q, p)`.
 * - Reduction: "batchmean", the per-example KL summed over classes and averaged over the batch
 *   (the mathematically correct KL; PyTorch's default "mean" would also divide by the classes).
 * - T² keeps the soft term's gradient magnitude independent of T (its gradient w.r.t. s is
 *   (q − p) / T before scaling), so α means the same thing at every temperature.
 * - The hard-label cross-entropy is at T = 1.
 *
 * Shapes: `context.student.logits` s [batch, classes], `context.teacher.logits` t [batch,
 * classes], `context.labels` int32 [batch]; returns a scalar. The teacher logits are targets:
 * compute them outside the gradient tape (the `kd` method does), so no gradient reaches them.
 *
 * Parameters:
 * - `alpha` (default 0.9): α ∈ [0, 1].
 * - `temperature` (default 0): T > 0 fixes the temperature; 0 uses `context.temperature`
 *   (the `kd` method's default T is 4).
 *
 * {@link KdLoss.parts} returns the two unweighted terms for logs.
 *
 * @example
 * ```ts
 * const loss = createPlugin(container, TOKENS.Loss, 'kd', { alpha: 0.9 });
 * const value = loss.compute({ x, labels, student: { logits: s }, teacher: { logits: t }, temperature: 4, epoch: 0, step: 0 });
 * ```
 */
@injectable()
export class KdLoss implements Loss {
  readonly name = 'kd';
  private values: ParamValues<typeof KD_LOSS_PARAMS>;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('kd', KD_LOSS_PARAMS, params);
  }

  /** Current parameters (a copy). */
  params(): Record<string, unknown> {
    return { ...this.values };
  }

  /** Validates and merges `params`; on error the previous values are kept. */
  setParams(params: Readonly<Record<string, unknown>>): void {
    this.values = validateParams(this.name, KD_LOSS_PARAMS, params, this.values);
  }

  compute(context: LossContext): tf.Scalar {
    const { loss, kl, ce } = this.parts(context);
    kl.dispose();
    ce.dispose();
    return loss;
  }

  /**
   * The weighted loss and its unweighted terms: `kl` = KL(softmax(t/T) ‖ softmax(s/T))
   * (batchmean, without T²) and `ce` = CE(softmax(s), y). The caller disposes all three.
   */
  parts(context: LossContext): { loss: tf.Scalar; kl: tf.Scalar; ce: tf.Scalar } {
    const student = studentLogits(this.name, context);
    const teacher = context.teacher?.logits;
    if (!teacher) throw new ConfigError(`${this.name}.teacher`, 'expected teacher logits in the loss context (kd needs a teacher)');
    if (teacher.shape[1] !== student.shape[1] || teacher.shape[0] !== student.shape[0]) {
      throw new ConfigError(
        `${this.name}.teacher`,
        `expected teacher logits of shape [${student.shape.join(', ')}] like the student's, got [${teacher.shape.join(', ')}]`,
      );
    }
    const temperature = resolveTemperature(this.name, this.values.temperature, context.temperature);
    const alpha = this.values.alpha;
    return tf.tidy(() => {
      const teacherProbs = softmaxAt(teacher, temperature);
      const kl = klDivergence({ target: teacherProbs, logits: student, temperature });
      const ce = crossEntropy(student, context.labels, 1);
      const loss = tf.add(tf.mul(alpha * temperature * temperature, kl), tf.mul(1 - alpha, ce)) as tf.Scalar;
      return { loss, kl, ce };
    });
  }
}
