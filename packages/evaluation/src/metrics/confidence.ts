import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type EvaluationBatch, type Metric } from '@tempered/core';

export const CONFIDENCE_PARAMS = defineParams({
  temperature: { type: 'number', default: 1, greaterThan: 0, description: 'Softmax temperature (the deployed model runs at T = 1).' },
});

/**
 * Confidence C(X) of Papernot et al., "Distillation as a Defense to Adversarial Perturbations
 * against Deep Neural Networks" (S&P 2016), Section V: the mean, over correctly classified clean
 * examples, of the largest softmax probability. Distillation at high T drives it towards 1.
 *
 * Formula: C(X) = (1/|X_c|) Σ_{x ∈ X_c} maxⱼ softmax(f(x)/T)ⱼ, X_c = {x : argmax f(x) = y}.
 *
 * Parameters: `temperature` (default 1).
 *
 * @example
 * ```ts
 * const metric = createPlugin(container, TOKENS.Metric, 'confidence');
 * metric.result(); // 0.9993
 * ```
 */
@injectable()
export class ConfidenceMetric implements Metric<number> {
  readonly name = 'confidence';
  private readonly temperature: number;
  private sum = 0;
  private count = 0;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.temperature = validateParams(this.name, CONFIDENCE_PARAMS, params).temperature;
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
  }

  update(batch: EvaluationBatch): void {
    if (batch.attack) return;
    const [sum, count] = tf.tidy(() => {
      const probabilities = tf.softmax(tf.div(batch.logits, this.temperature));
      const correct = tf.cast(tf.equal(tf.argMax(batch.logits, 1), tf.cast(batch.labels, 'int32')), 'float32');
      return [tf.sum(tf.mul(tf.max(probabilities, 1), correct)).dataSync()[0]!, tf.sum(correct).dataSync()[0]!];
    });
    this.sum += sum;
    this.count += count;
  }

  /** C(X) in (0, 1]; NaN when no example was classified correctly. */
  result(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }
}
