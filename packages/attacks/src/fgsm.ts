import * as tf from '@tensorflow/tfjs';
import { TOKENS, defineParams, type AttackOptions, type AttackResult, type Model, type ParamValues } from '@tempered/core';
import { inject, injectable } from 'tsyringe';
import { BaseAttack, runOnModelLike, splitCall, type AttackContext } from './base.js';
import type { ModelLike } from './model-like.js';
import { objectiveGradient } from './objective.js';

/** FGSM parameters: every one has a default. */
export const FGSM_PARAMS = defineParams({
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'L∞ budget ε (pixel units)' },
  loss: { type: 'enum', values: ['ce', 'margin'], default: 'ce', description: 'objective: cross-entropy or the C&W logit margin' },
});
export type FgsmParams = ParamValues<typeof FGSM_PARAMS>;

/**
 * Fast Gradient Sign Method (Goodfellow, Shlens & Szegedy, "Explaining and Harnessing
 * Adversarial Examples", ICLR 2015).
 *
 * Untargeted: x' = clip(x + ε·sign(∇ₓ CE(f(x), y))); targeted: x' = clip(x − ε·sign(∇ₓ CE(f(x), t))).
 *
 * Parameters: `epsilon` (0.3) the L∞ budget; `loss` ('ce') the objective, 'ce' or 'margin'
 * (min(max_{i≠y} Z_i − Z_y, 0); zero gradient once misclassified).
 * Shapes: x [batch, ...inputShape] within the bounds, y and targets int32 [batch]; the result has
 * x's shape; `iterations` is 1 for every example.
 *
 * @example
 * const attack = new Fgsm({ epsilon: 0.1 });
 * const xAdv = await attack.generate(model, x, y);                                  // untargeted
 * const xT = await attack.generate(model, x, y, { mode: 'targeted', targets });      // targeted
 */
@injectable()
export class Fgsm extends BaseAttack<typeof FGSM_PARAMS> {
  readonly name = 'fgsm';
  readonly norm = 'linf' as const;
  readonly supportedModes = ['untargeted', 'targeted'] as const;
  /** One gradient step: no start or step count for the diagnostics to vary. */
  readonly traits = { singleStep: true } as const;

  constructor(@inject(TOKENS.PluginParams) params?: Partial<FgsmParams> | Record<string, unknown>) {
    super('fgsm', FGSM_PARAMS, params);
  }

  get epsilon(): number {
    return this.values.epsilon;
  }

  protected async attack(model: Model, x: tf.Tensor, _y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const { epsilon, loss } = this.values;
    const { gradient, logits } = objectiveGradient(model, x, context.labels, { loss, targeted: context.targeted });
    const adversarial = tf.tidy(() =>
      tf.clipByValue(tf.add(x, tf.mul(tf.sign(gradient), epsilon)), context.bounds.min, context.bounds.max),
    );
    gradient.dispose();
    logits.dispose();
    return { adversarial, iterations: new Int32Array(x.shape[0]!).fill(1) };
  }
}

/**
 * FGSM on any {@link ModelLike} (core Model, tf.LayersModel or `(x) => logits`, bounds [0, 1]
 * unless given). `args` mixes parameters ({@link FgsmParams}) and call options (mode, targets, bounds).
 *
 * @example
 * const xAdv = await fgsm(layersModel, x, y, { epsilon: 0.1 });
 */
export async function fgsm(
  model: ModelLike,
  x: tf.Tensor,
  y: tf.Tensor1D,
  args?: Partial<FgsmParams> & AttackOptions,
): Promise<tf.Tensor> {
  const { params, options } = splitCall(FGSM_PARAMS, args);
  return (await runOnModelLike(new Fgsm(params), model, x, y, options)).adversarial;
}
