import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type EvaluationBatch, type Metric } from '@tempered/core';

export const AGREEMENT_PARAMS = defineParams({});

/**
 * Teacher–student agreement (top-1 fidelity, as in Stanton et al., "Does Knowledge
 * Distillation Really Work?", NeurIPS 2021): the share of clean examples on which the
 * student's argmax equals the teacher's, whatever the label.
 *
 * Formula: agree = (1/N) Σᵢ 𝟙[argmax s(xᵢ) = argmax t(xᵢ)]. Reads clean batches that carry
 * `teacherLogits`. No parameters.
 *
 * @example
 * ```ts
 * const metric = createPlugin(container, TOKENS.Metric, 'agreement');
 * metric.update({ modelName: 'student', x, labels, logits, teacherLogits });
 * metric.result(); // 0.97
 * ```
 */
@injectable()
export class AgreementMetric implements Metric<number> {
  readonly name = 'agreement';
  private agreeing = 0;
  private total = 0;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    validateParams(this.name, AGREEMENT_PARAMS, params);
  }

  reset(): void {
    this.agreeing = 0;
    this.total = 0;
  }

  update(batch: EvaluationBatch): void {
    if (batch.attack || !batch.teacherLogits) return;
    const teacherLogits = batch.teacherLogits;
    this.agreeing += tf.tidy(() =>
      tf.sum(tf.cast(tf.equal(tf.argMax(batch.logits, 1), tf.argMax(teacherLogits, 1)), 'int32')).dataSync()[0]!,
    );
    this.total += batch.labels.shape[0];
  }

  /** Agreement in [0, 1]; NaN when no batch had teacher logits. */
  result(): number {
    return this.total === 0 ? Number.NaN : this.agreeing / this.total;
  }
}
