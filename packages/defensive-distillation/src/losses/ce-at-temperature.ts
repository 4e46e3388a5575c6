import type * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { ConfigError, TOKENS, crossEntropy, defineParams, validateParams } from '@tempered/core';
import type { Loss, LossContext, ParamValues } from '@tempered/core';

/** The `temperature` parameter of the losses: 0 defers to the stage's T in the loss context. */
export const LOSS_TEMPERATURE_PARAM = defineParams({
  temperature: {
    type: 'number',
    default: 0,
    min: 0,
    description: 'Softmax temperature T; 0 (default) uses the training stage’s T from the loss context',
  },
});

export const CE_AT_TEMPERATURE_PARAMS = LOSS_TEMPERATURE_PARAM;

/**
 * Cross-entropy of the tempered softmax against hard labels: the loss of defensive
 * distillation's first phase (Papernot et al. 2016, "Distillation as a Defense to Adversarial
 * Perturbations against Deep Neural Networks", IEEE S&P, §IV-B) and, at T = 1, of standard
 * training.
 *
 * Loss: `mean_i −log softmax(z_i / T)[y_i]`.
 *
 * Shapes: `context.student.logits` [batch, classes] (the model being trained), `context.labels`
 * int32 [batch]; returns a scalar.
 *
 * Parameters:
 * - `temperature` (default 0): T > 0 fixes the temperature; 0 uses `context.temperature`, the
 *   stage's T, which is how the methods in this package use it.
 *
 * No T² factor: the gradient w.r.t. the logits is (softmax(z/T) − onehot(y)) / T, i.e. 1/T
 * smaller than at T = 1, as in the paper (adaptive optimisers such as Adam absorb the scale).
 *
 * @example
 * ```ts
 * const loss = createPlugin(container, TOKENS.Loss, 'ce-at-temperature');
 * const value = loss.compute({ x, labels, student: { logits }, temperature: 20, epoch: 0, step: 0 });
 * ```
 */
@injectable()
export class CeAtTemperatureLoss implements Loss {
  readonly name = 'ce-at-temperature';
  private values: ParamValues<typeof CE_AT_TEMPERATURE_PARAMS>;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('ce-at-temperature', CE_AT_TEMPERATURE_PARAMS, params);
  }

  /** Current parameters (a copy). */
  params(): Record<string, unknown> {
    return { ...this.values };
  }

  /** Validates and merges `params`; on error the previous values are kept. */
  setParams(params: Readonly<Record<string, unknown>>): void {
    this.values = validateParams(this.name, CE_AT_TEMPERATURE_PARAMS, params, this.values);
  }

  compute(context: LossContext): tf.Scalar {
    const logits = studentLogits(this.name, context);
    const temperature = resolveTemperature(this.name, this.values.temperature, context.temperature);
    return crossEntropy(logits, context.labels, temperature);
  }
}

/** The student logits of the context; a ConfigError naming `<owner>.student` when absent. */
export function studentLogits(owner: string, context: LossContext): tf.Tensor2D {
  const logits = context.student?.logits;
  if (!logits) throw new ConfigError(`${owner}.student`, 'expected student logits in the loss context');
  return logits;
}

/** The loss's own T when set (> 0), else the stage's T from the context (which must be > 0). */
export function resolveTemperature(owner: string, own: number, fromContext: number): number {
  const temperature = own > 0 ? own : fromContext;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ConfigError(`${owner}.temperature`, `expected a temperature > 0, got ${temperature}`);
  }
  return temperature;
}
