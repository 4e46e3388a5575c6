import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type Metric } from '@tempered/core';
import { attackRows, followsAttack, type IndexedEvaluationBatch } from './rows.js';

export const SUCCESS_RATE_PARAMS = defineParams({
  attack: { type: 'string', default: '', description: 'Attack name whose batches count; "" counts every attack batch.' },
});

/**
 * Attack success rate, over examples the model classifies correctly (attacking a misclassified
 * example proves nothing).
 *
 * Untargeted: SR = |{i : f(xᵢ) = yᵢ ∧ f(x'ᵢ) ≠ yᵢ}| / |{i : f(xᵢ) = yᵢ}|.
 * Targeted (Papernot et al., "The Limitations of Deep Learning in Adversarial Settings",
 * EuroS&P 2016, every other class as target): SR = |{(i, t) : f(xᵢ) = yᵢ ∧ f(x'ᵢₜ) = t}| /
 * |{(i, t) : f(xᵢ) = yᵢ, t ≠ yᵢ}|.
 *
 * Parameters: `attack` (default "": every attack batch).
 *
 * @example
 * ```ts
 * const metric = createPlugin(container, TOKENS.Metric, 'success-rate', { attack: 'jsma' });
 * ```
 */
@injectable()
export class SuccessRateMetric implements Metric<number> {
  readonly name = 'success-rate';
  private readonly attack: string;
  private successes = 0;
  private attempts = 0;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.attack = validateParams(this.name, SUCCESS_RATE_PARAMS, params).attack;
  }

  reset(): void {
    this.successes = 0;
    this.attempts = 0;
  }

  update(batch: IndexedEvaluationBatch): void {
    if (!followsAttack(batch, this.attack)) return;
    for (const row of attackRows(batch)) {
      if (!row.attackable) continue;
      this.attempts++;
      if (row.success) this.successes++;
    }
  }

  /** Success rate in [0, 1]; NaN when no correctly classified example was attacked. */
  result(): number {
    return this.attempts === 0 ? Number.NaN : this.successes / this.attempts;
  }
}
