import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import {
  ConfigError,
  TOKENS,
  crossEntropy,
  defineParams,
  klDivergence,
  softmaxAt,
  validateParams,
  type Loss,
  type LossContext,
  type ParamValues,
} from '@tempered/core';

export const ARD_LOSS_PARAMS = defineParams({
  alpha: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    description: 'Weight α of the distillation term; 1 − α weights clean cross-entropy (authors: 1)',
  },
  klReduction: {
    type: 'enum',
    values: ['batchmean', 'elementwise-mean'],
    default: 'batchmean',
    description:
      "KL reduction: 'batchmean' sums over classes and averages over the batch (the true KL); " +
      "'elementwise-mean' also divides by the class count, as PyTorch's nn.KLDivLoss() default in the authors' code",
  },
});

export type ArdLossParams = ParamValues<typeof ARD_LOSS_PARAMS>;

/** A loss value with its named, unweighted terms; every tensor belongs to the caller. */
export interface LossTerms {
  readonly loss: tf.Scalar;
  readonly terms: Record<string, tf.Scalar>;
}

/**
 * ARD's outer objective (Goldblum et al. 2020, "Adversarially Robust Distillation", AAAI):
 *
 * `L = α·T²·KL(softmax(T(x)/T) ‖ softmax(S(x′)/T)) + (1 − α)·CE(S(x), y)`
 *
 * The teacher sees clean x only; the student's adversarial logits x′ enter the KL. `T` is the
 * context's `temperature` (the `ard` method passes its own, default 30).
 *
 * Reduction: with `klReduction: 'batchmean'` (default) the KL is summed over the C classes and
 * averaged over the batch, i.e. the mathematically correct KL. The authors' PyTorch
 * `nn.KLDivLoss()` (default `size_average`) averages over all B·C elements, which is the same
 * quantity divided by C (10 on MNIST/CIFAR-10): equivalent to running ours with α/C on the KL
 * term (or, for α = 1 under SGD, a C-times smaller learning rate). `'elementwise-mean'`
 * reproduces their scale exactly.
 *
 * Parameters: `alpha` (1), `klReduction` ('batchmean').
 *
 * Shapes: `teacher.logits`, `studentAdv.logits`, and `student.logits` (needed when α < 1) are
 * [batch, classes]; `labels` int32 [batch]. Returns a scalar.
 *
 * @example
 * ```ts
 * const loss = createPlugin(container, TOKENS.Loss, 'ard', { alpha: 0.9 });
 * const value = loss.compute({ x, xAdv, labels, teacher: { logits: t }, studentAdv: { logits: sAdv },
 *   student: { logits: s }, temperature: 30, epoch: 0, step: 0 });
 * ```
 */
@injectable()
export class ArdLoss implements Loss {
  readonly name = 'ard';
  private values: ArdLossParams;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('ard', ARD_LOSS_PARAMS, params);
  }

  params(): ArdLossParams {
    return { ...this.values };
  }

  setParams(params: Record<string, unknown>): void {
    this.values = validateParams('ard', ARD_LOSS_PARAMS, params, this.values);
  }

  compute(context: LossContext): tf.Scalar {
    return tf.tidy(() => this.computeTerms(context).loss);
  }

  /** The loss with its terms `kl` (T²-scaled, reduced) and, when α < 1, `ce`. */
  computeTerms(context: LossContext): LossTerms {
    const { alpha, klReduction } = this.values;
    const temperature = context.temperature;
    const teacherLogits = context.teacher?.logits;
    const adversarialLogits = context.studentAdv?.logits;
    if (!teacherLogits) throw new ConfigError('ard.teacher', 'the ard loss needs teacher logits on clean x');
    if (!adversarialLogits) throw new ConfigError('ard.studentAdv', 'the ard loss needs student logits on x′');
    if (alpha < 1 && !context.student?.logits) {
      throw new ConfigError('ard.student', 'alpha < 1 needs student logits on clean x for the cross-entropy term');
    }
    const terms: Record<string, tf.Scalar> = {};
    const kl = tf.tidy(() => {
      const targets = softmaxAt(teacherLogits, temperature);
      const batchmean = tf.mul(klDivergence({ target: targets, logits: adversarialLogits, temperature }), temperature * temperature);
      return (klReduction === 'batchmean' ? batchmean : tf.div(batchmean, adversarialLogits.shape[1])) as tf.Scalar;
    });
    terms.kl = kl;
    let loss: tf.Scalar = alpha === 1 ? kl.clone() : tf.mul(kl, alpha);
    if (alpha < 1) {
      const ce = crossEntropy(context.student!.logits, context.labels);
      terms.ce = ce;
      const total = tf.tidy(() => tf.add(loss, tf.mul(ce, 1 - alpha)) as tf.Scalar);
      loss.dispose();
      loss = total;
    }
    return { loss, terms };
  }
}
