import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type Metric } from '@tempered/core';
import { mean, median } from '@tempered/reports';
import { attackRows, followsAttack, type IndexedEvaluationBatch } from './rows.js';

export const DISTORTION_PARAMS = defineParams({
  attack: { type: 'string', default: '', description: 'Attack name whose batches count; "" counts every attack batch.' },
});

/** Mean and median perturbation size of successful adversarial rows, in three norms. */
export interface DistortionResult {
  readonly count: number;
  readonly meanL0: number;
  readonly medianL0: number;
  readonly meanL2: number;
  readonly medianL2: number;
  readonly meanLinf: number;
  readonly medianLinf: number;
}

/**
 * Distortion of successful adversarial examples (Carlini & Wagner, "Towards Evaluating the
 * Robustness of Neural Networks", S&P 2017, report the mean; medians resist the heavy tail).
 *
 * Over successful rows δ = x' − x: L0 = |{j : |δⱼ| > 1e-6}| (input values changed),
 * L2 = ‖δ‖₂, L∞ = maxⱼ |δⱼ|. Statistics are NaN when no row succeeded.
 *
 * Parameters: `attack` (default "": every attack batch).
 *
 * @example
 * ```ts
 * const metric = createPlugin(container, TOKENS.Metric, 'distortion', { attack: 'cw' });
 * metric.result().meanL2; // 1.36
 * ```
 */
@injectable()
export class DistortionMetric implements Metric<DistortionResult> {
  readonly name = 'distortion';
  private readonly attack: string;
  private l0: number[] = [];
  private l2: number[] = [];
  private linf: number[] = [];

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.attack = validateParams(this.name, DISTORTION_PARAMS, params).attack;
  }

  reset(): void {
    this.l0 = [];
    this.l2 = [];
    this.linf = [];
  }

  update(batch: IndexedEvaluationBatch): void {
    if (!followsAttack(batch, this.attack)) return;
    for (const row of attackRows(batch)) {
      if (!(row.attackable && row.success)) continue;
      this.l0.push(row.l0);
      this.l2.push(row.l2);
      this.linf.push(row.linf);
    }
  }

  result(): DistortionResult {
    return {
      count: this.l2.length,
      meanL0: mean(this.l0),
      medianL0: median(this.l0),
      meanL2: mean(this.l2),
      medianL2: median(this.l2),
      meanLinf: mean(this.linf),
      medianLinf: median(this.linf),
    };
  }
}
