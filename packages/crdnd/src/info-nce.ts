import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { ConfigError, TOKENS, defineParams, validateParams, type Loss, type LossContext, type ParamValues } from '@tempered/core';

export const INFO_NCE_PARAMS = defineParams({
  temperature: { type: 'number', default: 0.1, greaterThan: 0, description: 'Contrastive temperature τ_c' },
  symmetric: {
    type: 'boolean',
    default: false,
    description: 'Also contrast each teacher embedding against the student batch and average both directions',
  },
});

export type InfoNceParams = ParamValues<typeof INFO_NCE_PARAMS>;

/** Rows scaled to unit L2 norm (a zero row stays zero), shape unchanged. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12))) as tf.Tensor2D);
}

/**
 * InfoNCE over a batch: anchors a_i [batch, d] and positives b_i [batch, d] are L2-normalised,
 * s_ij = a_i·b_j / τ, and L = mean_i −log(exp(s_ii) / Σ_j exp(s_ij)): example i's positive is
 * b_i, the other examples' b_j are its negatives. `symmetric` averages with the transposed
 * direction. Returns a scalar the caller disposes.
 */
export function infoNce(anchors: tf.Tensor2D, positives: tf.Tensor2D, temperature: number, symmetric = false): tf.Scalar {
  return tf.tidy(() => {
    const similarities = tf.div(tf.matMul(l2Normalize(anchors), l2Normalize(positives), false, true), temperature) as tf.Tensor2D;
    const diagonal = tf.oneHot(tf.range(0, anchors.shape[0], 1, 'int32'), anchors.shape[0]);
    const rowLoss = tf.mean(tf.neg(tf.sum(tf.mul(diagonal, tf.logSoftmax(similarities, 1)), 1)));
    if (!symmetric) return rowLoss as tf.Scalar;
    const columnLoss = tf.mean(tf.neg(tf.sum(tf.mul(diagonal, tf.logSoftmax(tf.transpose(similarities), 1)), 1)));
    return tf.div(tf.add(rowLoss, columnLoss), 2) as tf.Scalar;
  });
}

/**
 * Contrastive relationship loss (InfoNCE; van den Oord et al. 2018, "Representation Learning
 * with Contrastive Predictive Coding"; in distillation, Tian et al. 2020 "Contrastive
 * Representation Distillation"). In CRDND the anchors are the student's projected features on
 * x′ and the positives the teacher's projected features on clean x.
 *
 * `L = mean_i −log softmax_j(ẑˢ_i·ẑᵗ_j / τ_c)[i]`, ẑ = z/‖z‖₂.
 *
 * Parameters: `temperature` τ_c (0.1), `symmetric` (false).
 * Reads `studentAdv.features` (else `student.features`) and `teacher.features`, both
 * [batch, d] with the same d (project first when the models differ). Returns a scalar.
 *
 * @example
 * ```ts
 * const nce = createPlugin(container, TOKENS.Loss, 'info-nce', { temperature: 0.1 });
 * const value = nce.compute({ x, labels, studentAdv: { logits, features: zs }, teacher: { logits: t, features: zt },
 *   temperature: 1, epoch: 0, step: 0 });
 * ```
 */
@injectable()
export class InfoNceLoss implements Loss {
  readonly name = 'info-nce';
  private values: InfoNceParams;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('info-nce', INFO_NCE_PARAMS, params);
  }

  params(): InfoNceParams {
    return { ...this.values };
  }

  setParams(params: Record<string, unknown>): void {
    this.values = validateParams('info-nce', INFO_NCE_PARAMS, params, this.values);
  }

  compute(context: LossContext): tf.Scalar {
    const anchors = context.studentAdv?.features ?? context.student?.features;
    const positives = context.teacher?.features;
    if (!anchors || !positives) throw new ConfigError('info-nce.features', 'needs student and teacher features');
    if (anchors.shape[1] !== positives.shape[1] || anchors.shape[0] !== positives.shape[0]) {
      throw new ConfigError(
        'info-nce.features',
        `student [${anchors.shape.join(', ')}] and teacher [${positives.shape.join(', ')}] features must have the same shape (project them first)`,
      );
    }
    return infoNce(anchors, positives, this.values.temperature, this.values.symmetric);
  }
}
