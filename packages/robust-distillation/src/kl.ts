import * as tf from '@tensorflow/tfjs';
import { defineParams, klDivergencePerExample, softmaxAt } from '@tempered/core';

/** How a method reduces KL(p ‖ q) over a batch; see {@link reduceKl}. */
export type KlReduction = 'batchmean' | 'elementwise-mean';

/**
 * The `klReduction` parameter of the methods whose authors reduce the KL with PyTorch's
 * `nn.KLDivLoss()` default, or a mean over every element: their loss is the true KL divided by
 * the number of classes C (RSLAD's README warns about exactly this).
 */
export function klReductionParam(authorsChoice: KlReduction, who: string) {
  return defineParams({
    klReduction: {
      type: 'enum',
      values: ['elementwise-mean', 'batchmean'],
      default: authorsChoice,
      description:
        "KL reduction: 'batchmean' sums over the classes and averages over the batch (the true KL); 'elementwise-mean' also " +
        `divides by the class count C, as PyTorch's nn.KLDivLoss() default ('mean'). ${who}`,
    },
  });
}

/**
 * Batch KL(softmax(targetLogits) ‖ softmax(logits)) reduced as `reduction` says: 'batchmean' is
 * (1/B)·Σᵢ Σ_c p log(p/q); 'elementwise-mean' is that divided by C, i.e. PyTorch's
 * `nn.KLDivLoss()` default, the mean over all B·C elements. The gradient flows into both
 * arguments (detach a target by passing a tensor computed outside the tape).
 *
 * @example
 * ```ts
 * const kl = reduceKl({ targetLogits: teacherLogits, logits: studentAdvLogits, reduction: 'elementwise-mean' }); // RSLAD's normalisation
 * ```
 */
export function reduceKl({ targetLogits, logits, reduction }: { targetLogits: tf.Tensor2D; logits: tf.Tensor2D; reduction: KlReduction }): tf.Scalar {
  return tf.tidy(() => {
    const batchmean = tf.mean(klDivergencePerExample({ target: softmaxAt(targetLogits), logits }));
    return (reduction === 'batchmean' ? batchmean : tf.div(batchmean, logits.shape[1])) as tf.Scalar;
  });
}
