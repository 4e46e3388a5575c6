import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import {
  ConfigError,
  TOKENS,
  defineParams,
  klDivergencePerExample,
  validateParams,
  type Loss,
  type LossContext,
  type ParamValues,
} from '@tempered/core';
import { l2Normalize } from './info-nce.js';

export const RELATION_MATCHING_PARAMS = defineParams({
  mode: {
    type: 'enum',
    values: ['kl', 'mse'],
    default: 'kl',
    description: "'kl': KL between rows of softmax(sim/τ_r) (self-similarity masked); 'mse': mean squared difference of the similarity matrices",
  },
  temperature: { type: 'number', default: 0.1, greaterThan: 0, description: "Relation temperature τ_r ('kl' mode)" },
});

export type RelationMatchingParams = ParamValues<typeof RELATION_MATCHING_PARAMS>;

/** Batch cosine-similarity matrix of features [batch, d] → [batch, batch]. */
export function cosineSimilarityMatrix(features: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const unit = l2Normalize(features);
    return tf.matMul(unit, unit, false, true) as tf.Tensor2D;
  });
}

// Added to the diagonal before the row softmax so an example's similarity to itself (always 1)
// carries no probability: the rows describe relations to the *other* examples.
const SELF_MASK = -1e4;

/**
 * How far the student's relations among batch examples are from the teacher's. Student and
 * teacher features may have different sizes; only their [batch, batch] cosine similarities meet.
 * 'kl': mean over rows i of KL(softmax(Sᵗ_i/τ) ‖ softmax(Sˢ_i/τ)) with j = i masked out;
 * 'mse': mean over all (i, j) of (Sˢ_ij − Sᵗ_ij)². Returns a scalar the caller disposes.
 */
export function relationMatching(
  studentFeatures: tf.Tensor2D,
  teacherFeatures: tf.Tensor2D,
  mode: 'kl' | 'mse',
  temperature: number,
): tf.Scalar {
  return tf.tidy(() => {
    const studentSim = cosineSimilarityMatrix(studentFeatures);
    const teacherSim = cosineSimilarityMatrix(teacherFeatures);
    if (mode === 'mse') return tf.mean(tf.squaredDifference(studentSim, teacherSim)) as tf.Scalar;
    const batch = studentFeatures.shape[0];
    if (batch < 2) return tf.scalar(0);
    const mask = tf.mul(tf.eye(batch), SELF_MASK);
    const teacherRows = tf.softmax(tf.div(tf.add(teacherSim, mask), temperature)) as tf.Tensor2D;
    return tf.mean(klDivergencePerExample({ target: teacherRows, logits: tf.add(studentSim, mask) as tf.Tensor2D, temperature })) as tf.Scalar;
  });
}

/**
 * Relational knowledge matching (in the spirit of Park et al. 2019, "Relational Knowledge
 * Distillation", and Tung & Mori 2019, "Similarity-Preserving Knowledge Distillation"): the
 * student's batch cosine-similarity matrix on x′ should match the teacher's on x.
 *
 * `L = mean_i KL(softmax(Sᵗ_i/τ_r) ‖ softmax(Sˢ_i/τ_r))` (diagonal masked), or `mean (Sˢ − Sᵗ)²`.
 *
 * Parameters: `mode` ('kl'), `temperature` τ_r (0.1).
 * Reads `studentAdv.features` (else `student.features`) [batch, dₛ] and `teacher.features`
 * [batch, dₜ]. Returns a scalar.
 *
 * @example
 * ```ts
 * const relation = createPlugin(container, TOKENS.Loss, 'relation-matching', { mode: 'mse' });
 * const value = relation.compute({ x, labels, studentAdv: { logits, features: fs }, teacher: { logits: t, features: ft },
 *   temperature: 1, epoch: 0, step: 0 });
 * ```
 */
@injectable()
export class RelationMatchingLoss implements Loss {
  readonly name = 'relation-matching';
  private values: RelationMatchingParams;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('relation-matching', RELATION_MATCHING_PARAMS, params);
  }

  params(): RelationMatchingParams {
    return { ...this.values };
  }

  setParams(params: Record<string, unknown>): void {
    this.values = validateParams('relation-matching', RELATION_MATCHING_PARAMS, params, this.values);
  }

  compute(context: LossContext): tf.Scalar {
    const student = context.studentAdv?.features ?? context.student?.features;
    const teacher = context.teacher?.features;
    if (!student || !teacher) throw new ConfigError('relation-matching.features', 'needs student and teacher features');
    if (student.shape[0] !== teacher.shape[0]) {
      throw new ConfigError('relation-matching.features', `batch sizes differ: ${student.shape[0]} vs ${teacher.shape[0]}`);
    }
    return relationMatching(student, teacher, this.values.mode, this.values.temperature);
  }
}
