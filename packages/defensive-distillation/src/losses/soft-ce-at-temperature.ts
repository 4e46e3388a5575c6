import type * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { ConfigError, TOKENS, softCrossEntropy, validateParams } from '@tempered/core';
import type { Loss, LossContext, ParamValues } from '@tempered/core';
import { LOSS_TEMPERATURE_PARAM, resolveTemperature, studentLogits } from './ce-at-temperature.js';

export const SOFT_CE_AT_TEMPERATURE_PARAMS = LOSS_TEMPERATURE_PARAM;

/**
 * Cross-entropy of the tempered softmax against soft targets: the loss of defensive
 * distillation's second phase, where the targets are the teacher's softmax(logits / T)
 * (Papernot et al. 2016, "Distillation as a Defense to Adversarial Perturbations against Deep
 * Neural Networks", IEEE S&P, §IV-B).
 *
 * Loss: `mean_i −Σ_k p_ik · log softmax(z_i / T)_k`, with p = `context.softTargets`.
 *
 * It equals KL(p ‖ softmax(z/T)) + H(p), so it has the same gradient as the KL form; its
 * minimum is the targets' entropy H(p), not 0.
 *
 * Shapes: `context.student.logits` [batch, classes], `context.softTargets` [batch, classes]
 * (rows sum to 1); returns a scalar.
 *
 * Parameters:
 * - `temperature` (default 0): T > 0 fixes the temperature; 0 uses `context.temperature`.
 *
 * @example
 * ```ts
 * const loss = createPlugin(container, TOKENS.Loss, 'soft-ce-at-temperature');
 * const value = loss.compute({ x, labels, student: { logits }, softTargets, temperature: 20, epoch: 0, step: 0 });
 * ```
 */
@injectable()
export class SoftCeAtTemperatureLoss implements Loss {
  readonly name = 'soft-ce-at-temperature';
  private values: ParamValues<typeof SOFT_CE_AT_TEMPERATURE_PARAMS>;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('soft-ce-at-temperature', SOFT_CE_AT_TEMPERATURE_PARAMS, params);
  }

  /** Current parameters (a copy). */
  params(): Record<string, unknown> {
    return { ...this.values };
  }

  /** Validates and merges `params`; on error the previous values are kept. */
  setParams(params: Readonly<Record<string, unknown>>): void {
    this.values = validateParams(this.name, SOFT_CE_AT_TEMPERATURE_PARAMS, params, this.values);
  }

  compute(context: LossContext): tf.Scalar {
    const logits = studentLogits(this.name, context);
    const targets = context.softTargets;
    if (!targets) throw new ConfigError(`${this.name}.softTargets`, 'expected soft targets in the loss context');
    if (targets.shape[0] !== logits.shape[0] || targets.shape[1] !== logits.shape[1]) {
      throw new ConfigError(
        `${this.name}.softTargets`,
        `expected shape [${logits.shape.join(', ')}] like the logits, got [${targets.shape.join(', ')}]`,
      );
    }
    const temperature = resolveTemperature(this.name, this.values.temperature, context.temperature);
    return softCrossEntropy({ target: targets, logits, temperature });
  }
}
