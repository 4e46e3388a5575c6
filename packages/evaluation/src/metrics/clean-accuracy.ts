import { inject, injectable } from 'tsyringe';
import { TOKENS, countCorrect, defineParams, validateParams, type EvaluationBatch, type Metric } from '@tempered/core';

export const CLEAN_ACCURACY_PARAMS = defineParams({});

/**
 * Clean accuracy: share of clean test examples whose argmax logit equals the label.
 *
 * Formula: acc = (1/N) Σᵢ 𝟙[argmax f(xᵢ) = yᵢ]. Reads only clean batches (no `attack`).
 * No parameters.
 *
 * @example
 * ```ts
 * const metric = createPlugin(container, TOKENS.Metric, 'clean-accuracy');
 * metric.update({ modelName: 'student', x, labels, logits });
 * metric.result(); // 0.98
 * ```
 */
@injectable()
export class CleanAccuracyMetric implements Metric<number> {
  readonly name = 'clean-accuracy';
  private correct = 0;
  private total = 0;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    validateParams(this.name, CLEAN_ACCURACY_PARAMS, params);
  }

  reset(): void {
    this.correct = 0;
    this.total = 0;
  }

  update(batch: EvaluationBatch): void {
    if (batch.attack) return;
    this.correct += countCorrect(batch.logits, batch.labels);
    this.total += batch.labels.shape[0];
  }

  /** Accuracy in [0, 1]; NaN before any example. */
  result(): number {
    return this.total === 0 ? Number.NaN : this.correct / this.total;
  }
}

