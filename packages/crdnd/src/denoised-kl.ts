import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import {
  ConfigError,
  TOKENS,
  crossEntropyPerExample,
  defineParams,
  softmaxAt,
  validateParams,
  type Loss,
  type LossContext,
  type ParamValues,
} from '@tempered/core';

export const DENOISED_KL_PARAMS = defineParams({
  reliabilityWeighting: {
    type: 'boolean',
    default: true,
    description: 'Weight imitation by r = p_teacher(y | x) and hard-label CE by 1 − r, per example',
  },
  logEpsilon: {
    type: 'number',
    default: 1e-8,
    greaterThan: 0,
    description: 'ε in log(q·M + ε): q·M is a probability vector, not logits, so its log needs a floor',
  },
});

export type DenoisedKlParams = ParamValues<typeof DENOISED_KL_PARAMS>;

/** A loss value with its named, unweighted terms; every tensor belongs to the caller. */
export interface LossTerms {
  readonly loss: tf.Scalar;
  readonly terms: Record<string, tf.Scalar>;
}

/** M = row-softmax(W): a row-stochastic class-transition matrix [classes, classes]. */
export function transitionMatrix(transitionLogits: tf.Tensor2D): tf.Tensor2D {
  return tf.softmax(transitionLogits, 1) as tf.Tensor2D;
}

/**
 * Per-example KL(p ‖ q·M) = Σ_j p_j (log p_j − log((q·M)_j + ε)), shape [batch]. Named arguments,
 * since p and q are both [batch, classes] probabilities:
 * - `target` p: the teacher's probabilities (required);
 * - `studentProbs` q: the student's probabilities (required);
 * - `transition` M: [classes, classes] row-stochastic, (q·M)_j = Σ_i q_i M_ij, the student's
 *   prediction carried into the teacher's (noisy) label space; identity when omitted;
 * - `logEpsilon` ε inside the log; default 1e-8.
 *
 * @example
 * ```ts
 * const kl = denoisedKlPerExample({ target: softmaxAt(teacherLogits, tau), studentProbs: softmaxAt(studentLogits, tau), transition });
 * ```
 */
export function denoisedKlPerExample({
  target: targets,
  studentProbs,
  transition,
  logEpsilon = 1e-8,
}: {
  target: tf.Tensor2D;
  studentProbs: tf.Tensor2D;
  transition?: tf.Tensor2D | undefined;
  logEpsilon?: number;
}): tf.Tensor1D {
  return tf.tidy(() => {
    const mapped = transition ? tf.matMul(studentProbs, transition) : studentProbs;
    const logMapped = tf.log(tf.add(mapped, logEpsilon));
    const safeTargets = tf.maximum(targets, 1e-12);
    const terms = tf.where(tf.greater(targets, 0), tf.mul(targets, tf.sub(tf.log(safeTargets), logMapped)), tf.zerosLike(targets));
    return tf.sum(terms, 1) as tf.Tensor1D;
  });
}

/**
 * CRDND's denoised imitation term (our design from Wang et al. 2023's abstract, "adaptive
 * compensation module to model the instability of the teacher"): forward loss correction with a
 * learnable class-transition matrix plus per-example teacher reliability.
 *
 * `L = mean_i [ r_i·τ²·KL(softmax(T(x_i)/τ) ‖ softmax(S(x′_i)/τ)·M) + (1 − r_i)·CE(S(x′_i), y_i) ]`
 *
 * with M = row-softmax(W) (the identity when no transition is bound; W is owned and trained by
 * the `crdnd` method, see {@link DenoisedKlLoss.bindTransition}) and r_i = softmax(T(x_i))[y_i]
 * at temperature 1, a constant (stop-gradient). With `reliabilityWeighting: false`, r_i = 1.
 * τ is the context's `temperature`; τ² keeps gradient scale comparable across τ, as in ARD.
 *
 * Parameters: `reliabilityWeighting` (true), `logEpsilon` (1e-8).
 * Terms: `denoisedKl` (or `kl` without a transition; τ²-scaled, unweighted mean) and, with
 * reliability weighting, `ce` (mean CE(S(x′), y)).
 *
 * Shapes: `teacher.logits` and `studentAdv.logits` [batch, classes], `labels` int32 [batch],
 * transition logits W [classes, classes]. Returns a scalar.
 *
 * @example
 * ```ts
 * const loss = createPlugin(container, TOKENS.Loss, 'crdnd-denoised-kl', { reliabilityWeighting: true }) as DenoisedKlLoss;
 * loss.bindTransition(transitionLogits); // tf.Variable [C, C], e.g. owned by a method
 * const value = loss.compute({ x, xAdv, labels, teacher: { logits: t }, studentAdv: { logits: s }, temperature: 30, epoch, step });
 * ```
 */
@injectable()
export class DenoisedKlLoss implements Loss {
  readonly name = 'crdnd-denoised-kl';
  private values: DenoisedKlParams;
  private transitionLogits?: tf.Tensor2D;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('crdnd-denoised-kl', DENOISED_KL_PARAMS, params);
  }

  params(): DenoisedKlParams {
    return { ...this.values };
  }

  setParams(params: Record<string, unknown>): void {
    this.values = validateParams('crdnd-denoised-kl', DENOISED_KL_PARAMS, params, this.values);
  }

  /** Uses M = row-softmax(W) for W = `transitionLogits` (not owned; undefined for M = I). */
  bindTransition(transitionLogits: tf.Tensor2D | undefined): void {
    this.transitionLogits = transitionLogits;
  }

  compute(context: LossContext): tf.Scalar {
    return tf.tidy(() => this.computeTerms(context).loss);
  }

  computeTerms(context: LossContext): LossTerms {
    const teacherLogits = context.teacher?.logits;
    const studentLogits = context.studentAdv?.logits ?? context.student?.logits;
    if (!teacherLogits) throw new ConfigError('crdnd-denoised-kl.teacher', 'needs teacher logits on clean x');
    if (!studentLogits) throw new ConfigError('crdnd-denoised-kl.studentAdv', 'needs student logits on x′');
    const classes = studentLogits.shape[1];
    const transitionLogits = this.transitionLogits;
    if (transitionLogits && (transitionLogits.shape[0] !== classes || transitionLogits.shape[1] !== classes)) {
      throw new ConfigError('crdnd-denoised-kl.transition', `expected [${classes}, ${classes}], got [${transitionLogits.shape.join(', ')}]`);
    }
    const tau = context.temperature;
    const terms: Record<string, tf.Scalar> = {};
    const klPerExample = tf.tidy(() => {
      const transition = transitionLogits ? transitionMatrix(transitionLogits) : undefined;
      const kl = denoisedKlPerExample({ target: softmaxAt(teacherLogits, tau), studentProbs: softmaxAt(studentLogits, tau), transition, logEpsilon: this.values.logEpsilon });
      return tf.mul(kl, tau * tau) as tf.Tensor1D;
    });
    terms[transitionLogits ? 'denoisedKl' : 'kl'] = tf.mean(klPerExample) as tf.Scalar;
    if (!this.values.reliabilityWeighting) {
      klPerExample.dispose();
      return { loss: terms[transitionLogits ? 'denoisedKl' : 'kl']!.clone(), terms };
    }
    const cePerExample = crossEntropyPerExample(studentLogits, context.labels);
    terms.ce = tf.mean(cePerExample) as tf.Scalar;
    const loss = tf.tidy(() => {
      const reliability = stopGradient(teacherReliability(teacherLogits, context.labels));
      const weighted = tf.add(tf.mul(reliability, klPerExample), tf.mul(tf.sub(1, reliability), cePerExample));
      return tf.mean(weighted) as tf.Scalar;
    });
    klPerExample.dispose();
    cePerExample.dispose();
    return { loss, terms };
  }
}

/** Identity in the forward pass, zero gradient in the backward pass (tfjs has no stop_gradient op). */
const stopGradient = tf.customGrad((...inputs) => {
  const value = inputs[0] as tf.Tensor;
  return { value: value.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
}) as <T extends tf.Tensor>(value: T) => T;

/** r_i = softmax(teacherLogits_i)[y_i] at temperature 1, shape [batch]. */
export function teacherReliability(teacherLogits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const probs = tf.softmax(teacherLogits);
    return tf.sum(tf.mul(probs, tf.oneHot(tf.cast(labels, 'int32'), teacherLogits.shape[1])), 1) as tf.Tensor1D;
  });
}
