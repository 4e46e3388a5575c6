import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type Metric } from '@tempered/core';
import { attackRows, followsAttack, type IndexedEvaluationBatch } from './rows.js';

export const ADVERSARIAL_ROBUSTNESS_PARAMS = defineParams({
  attack: { type: 'string', default: 'jsma', description: 'Attack whose batches count (the paper uses JSMA).' },
});

/**
 * ρ_adv, the robustness measure of Papernot et al., "Distillation as a Defense to Adversarial
 * Perturbations against Deep Neural Networks" (S&P 2016), Eq. 9: the mean fraction of input
 * features an attack must change to cause a misclassification.
 *
 * Formula: ρ_adv = (1/|S|) Σ_{(i,t) ∈ S} ‖x'ᵢₜ − xᵢ‖₀ / d, with S the successful rows and d
 * the number of input values. The paper's ρ_adv is a minimum over perturbations, which the
 * attack only approximates; over failed rows it is undefined (the attack gave up at its
 * distortion cap), so we average over successful rows only, as the paper's tables do. A
 * higher ρ_adv means a more robust model; read it with the success rate beside it.
 *
 * Parameters: `attack` (default "jsma").
 *
 * @example
 * ```ts
 * const metric = createPlugin(container, TOKENS.Metric, 'adversarial-robustness');
 * metric.result(); // 0.0404 (4.04 % of the pixels)
 * ```
 */
@injectable()
export class AdversarialRobustnessMetric implements Metric<number> {
  readonly name = 'adversarial-robustness';
  private readonly attack: string;
  private fractionSum = 0;
  private count = 0;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.attack = validateParams(this.name, ADVERSARIAL_ROBUSTNESS_PARAMS, params).attack;
  }

  reset(): void {
    this.fractionSum = 0;
    this.count = 0;
  }

  update(batch: IndexedEvaluationBatch): void {
    if (!followsAttack(batch, this.attack)) return;
    for (const row of attackRows(batch)) {
      if (!(row.attackable && row.success)) continue;
      this.fractionSum += row.l0 / row.featureCount;
      this.count++;
    }
  }

  /** ρ_adv in [0, 1]; NaN when no row succeeded. */
  result(): number {
    return this.count === 0 ? Number.NaN : this.fractionSum / this.count;
  }
}
