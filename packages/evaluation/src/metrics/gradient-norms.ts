import * as tf from '@tensorflow/tfjs';
import type { InjectionToken } from 'tsyringe';
import { ConfigError, defineParams, validateParams, type EvaluationBatch, type Metric, type Model, type ParamValues } from '@tempered/core';
import { DEFAULT_HISTOGRAM_AXIS, gradientHistogram, type GradientHistogram } from '@tempered/reports';

/**
 * The model under evaluation, registered in the evaluation's child container so that metrics
 * needing more than logits (input gradients) can be built by name.
 */
export const EVALUATED_MODEL = Symbol.for('tempered.reports.EvaluatedModel') as InjectionToken<Model>;

export const GRADIENT_NORMS_PARAMS = defineParams({
  quantity: {
    type: 'enum',
    values: ['probability', 'loss'],
    default: 'probability',
    description: "'probability': softmax output of the predicted class (the paper's); 'loss': cross-entropy against the label.",
  },
  norm: { type: 'enum', values: ['l1', 'l2'], default: 'l1', description: 'Norm of each example’s input gradient.' },
  temperature: { type: 'number', default: 1, greaterThan: 0, description: 'Softmax temperature (deployed models run at T = 1).' },
  minExponent: { type: 'number', default: DEFAULT_HISTOGRAM_AXIS.minExponent, integer: true, description: 'log10 of the first histogram edge (float32 subnormals reach 1e-45).' },
  maxExponent: { type: 'number', default: DEFAULT_HISTOGRAM_AXIS.maxExponent, integer: true, description: 'log10 of the last histogram edge.' },
  binsPerDecade: { type: 'number', default: DEFAULT_HISTOGRAM_AXIS.binsPerDecade, min: 1, max: 10, integer: true, description: 'Histogram bins per power of ten.' },
});

export type GradientNormsParams = ParamValues<typeof GRADIENT_NORMS_PARAMS>;

/**
 * Distribution of input-gradient magnitudes, the histogram of Papernot et al., "Distillation as
 * a Defense to Adversarial Perturbations against Deep Neural Networks" (S&P 2016), Section V-B:
 * distillation at temperature T shrinks ‖∇ₓ F(x)‖ at T = 1 by orders of magnitude, often to
 * exactly zero in float32, which is why gradient attacks stall (gradient masking).
 *
 * Formula, per clean example: g = ‖∇ₓ softmax(f(x)/T)_ŷ‖ₚ (quantity 'probability', ŷ = the
 * predicted class) or g = ‖∇ₓ CE(softmax(f(x)/T), y)‖ₚ (quantity 'loss'), p ∈ {1, 2}; the
 * histogram bins log10 g, exact zeros (every component 0) and non-finite norms counted apart.
 * Norms are taken in float64 from the float32 gradient, scaled by its largest component, so a
 * gradient of 1e-30 per component is 1e-30·√d, not 0 (float32 squares underflow below ~1e-19).
 *
 * Parameters: `quantity` ('probability'), `norm` ('l1'), `temperature` (1), `minExponent`
 * (−45), `maxExponent` (5), `binsPerDecade` (1). Needs {@link EVALUATED_MODEL} in the container.
 * Input x: [batch, ...inputShape].
 *
 * @example
 * ```ts
 * const scope = container.createChildContainer();
 * scope.register(EVALUATED_MODEL, { useValue: model });
 * const metric = createPlugin(scope, TOKENS.Metric, 'gradient-norms', { quantity: 'loss', norm: 'l2' });
 * metric.update(cleanBatch);
 * metric.result().median; // 3.2e-21 for a model distilled at T = 100
 * ```
 */
export class GradientNormsMetric implements Metric<GradientHistogram> {
  readonly name = 'gradient-norms';
  readonly params: GradientNormsParams;
  private norms: number[] = [];

  constructor(
    params: Record<string, unknown>,
    private readonly model: Model,
  ) {
    this.params = validateParams(this.name, GRADIENT_NORMS_PARAMS, params);
    if (this.params.maxExponent <= this.params.minExponent) {
      throw new ConfigError(`${this.name}.maxExponent`, `expected > minExponent (${this.params.minExponent})`);
    }
  }

  reset(): void {
    this.norms = [];
  }

  update(batch: EvaluationBatch): void {
    if (batch.attack) return;
    const { quantity, norm, temperature } = this.params;
    const { data, rows } = tf.tidy(() => {
      const labels = tf.cast(batch.labels, 'int32');
      const classes = quantity === 'probability' ? tf.argMax(batch.logits, 1) : labels;
      const oneHot = tf.oneHot(classes as tf.Tensor1D, this.model.numClasses);
      // Examples are independent (inference mode), so the gradient of the batch sum gives each row's own gradient.
      const gradient = tf.grad((x: tf.Tensor) => {
        const logits = tf.div(this.model.logits(x, { training: false }), temperature);
        if (quantity === 'probability') return tf.sum(tf.mul(tf.softmax(logits), oneHot));
        return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot)));
      })(batch.x);
      return { data: gradient.dataSync() as Float32Array, rows: gradient.shape[0]! };
    });
    // Norms in float64 from the float32 components: squaring a float32 gradient below ~1e-19
    // in float32 gives 0, which would call tiny gradients "exactly zero".
    const size = rows === 0 ? 0 : data.length / rows;
    for (let r = 0; r < rows; r++) this.norms.push(vectorNorm(data.subarray(r * size, (r + 1) * size), norm));
  }

  result(): GradientHistogram {
    return gradientHistogram(this.norms, this.params);
  }
}

/**
 * L1 or L2 norm in float64, scaled by the largest magnitude (max·‖g/max‖) so no component
 * underflows or overflows: 0 exactly when every component is 0; NaN when any is not finite.
 */
export function vectorNorm(values: ArrayLike<number>, norm: 'l1' | 'l2'): number {
  let largest = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]!);
    if (!Number.isFinite(v)) return Number.NaN;
    if (v > largest) largest = v;
  }
  if (largest === 0) return 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const scaled = Math.abs(values[i]!) / largest;
    sum += norm === 'l1' ? scaled : scaled * scaled;
  }
  return largest * (norm === 'l1' ? sum : Math.sqrt(sum));
}
