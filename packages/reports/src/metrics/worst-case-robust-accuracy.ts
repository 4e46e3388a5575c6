import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type Metric } from '@tempered/core';
import { ExampleRobustness, attackRows, exampleIndices, type IndexedEvaluationBatch } from './rows.js';

export const WORST_CASE_ROBUST_ACCURACY_PARAMS = defineParams({});

/**
 * Worst-case robust accuracy over every attack, per example, as AutoAttack counts it (Croce &
 * Hein, "Reliable Evaluation of Adversarial Robustness with an Ensemble of Diverse
 * Parameter-free Attacks", ICML 2020): an example is robust only if it is classified correctly
 * and no attack, in any mode, made the model misclassify it.
 *
 * Formula: wracc = (1/N) Σᵢ 𝟙[f(xᵢ) = yᵢ ∧ ∀ attacks a, rows r of i: f(x'ₐᵣ) = yᵢ].
 * It is at most the minimum of the per-attack robust accuracies. Needs batches that carry
 * `indices` (the evaluation provides them) so rows of different attacks meet at one example.
 * No parameters.
 *
 * @example
 * ```ts
 * const metric = createPlugin(container, TOKENS.Metric, 'worst-case-robust-accuracy');
 * // feed the clean batches and every attack's batches, then:
 * metric.result(); // 0.41
 * ```
 */
@injectable()
export class WorstCaseRobustAccuracyMetric implements Metric<number> {
  readonly name = 'worst-case-robust-accuracy';
  readonly requires = ['logits'] as const;
  private readonly robustness = new ExampleRobustness();

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    validateParams(this.name, WORST_CASE_ROBUST_ACCURACY_PARAMS, params);
  }

  reset(): void {
    this.robustness.reset();
  }

  update(batch: IndexedEvaluationBatch): void {
    if (batch.attack) {
      for (const row of attackRows(batch)) this.robustness.record(row.example, row.robust);
      return;
    }
    const examples = exampleIndices(batch);
    const correct = tf.tidy(() => tf.equal(tf.argMax(batch.logits, 1), tf.cast(batch.labels, 'int32')).dataSync());
    for (let i = 0; i < examples.length; i++) this.robustness.record(examples[i]!, correct[i] === 1);
  }

  /** Worst-case robust accuracy in [0, 1]; NaN before any batch. */
  result(): number {
    return this.robustness.accuracy();
  }
}
