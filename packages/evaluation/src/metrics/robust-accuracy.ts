import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type Metric } from '@tempered/core';
import { ExampleRobustness, attackRows, followsAttack, type IndexedEvaluationBatch } from './rows.js';

export const ROBUST_ACCURACY_PARAMS = defineParams({
  attack: { type: 'string', default: '', description: 'Attack name whose batches count; "" counts every attack batch.' },
});

/**
 * Robust accuracy under one attack: share of examples classified correctly on the clean input
 * and on every adversarial row crafted from it (for targeted "every other class" runs, on
 * all K − 1 targeted rows).
 *
 * Formula: racc = (1/N) Σᵢ 𝟙[f(xᵢ) = yᵢ ∧ ∀ rows r of i: f(x'ᵣ) = yᵢ].
 *
 * Parameters: `attack` (default "": every attack batch).
 *
 * @example
 * ```ts
 * const metric = createPlugin(container, TOKENS.Metric, 'robust-accuracy', { attack: 'pgd' });
 * metric.update(batchWithAttack);
 * metric.result(); // 0.87
 * ```
 */
@injectable()
export class RobustAccuracyMetric implements Metric<number> {
  readonly name = 'robust-accuracy';
  private readonly attack: string;
  private readonly robustness = new ExampleRobustness();

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.attack = validateParams(this.name, ROBUST_ACCURACY_PARAMS, params).attack;
  }

  reset(): void {
    this.robustness.reset();
  }

  update(batch: IndexedEvaluationBatch): void {
    if (!followsAttack(batch, this.attack)) return;
    for (const row of attackRows(batch)) this.robustness.record(row.example, row.robust);
  }

  /** Robust accuracy in [0, 1]; NaN before any attack batch. */
  result(): number {
    return this.robustness.accuracy();
  }
}
