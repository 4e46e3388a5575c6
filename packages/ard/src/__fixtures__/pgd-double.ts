/**
 * Spec-only stand-in for @tempered/attacks' `pgd` (same name and parameters), used until that
 * package lands: L∞/L2 PGD maximising cross-entropy (or the CW margin) of the model's logits.
 */
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import {
  TOKENS,
  crossEntropy,
  defineParams,
  registerPlugin,
  validateParams,
  type Attack,
  type AttackOptions,
  type AttackResult,
  type Model,
} from '@tempered/core';

const PGD_PARAMS = defineParams({
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'Norm' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'Budget' },
  stepSize: { type: 'number', default: 0.01, greaterThan: 0, description: 'Step' },
  steps: { type: 'number', default: 40, integer: true, min: 1, description: 'Steps' },
  randomStart: { type: 'boolean', default: true, description: 'Uniform random start' },
  loss: { type: 'enum', values: ['ce', 'margin'], default: 'ce', description: 'Objective' },
  seed: { type: 'number', default: 0, integer: true, min: 0, description: 'Seed' },
});

export class PgdDouble implements Attack {
  readonly name = 'pgd';
  readonly supportedModes = ['untargeted'] as const;
  readonly requires = ['inputGradients'] as const;
  /** Seeds each call received, so specs can check that callers pass one. */
  readonly seenSeeds: number[] = [];
  private values;
  constructor(params: Record<string, unknown> | undefined) {
    this.values = validateParams('pgd', PGD_PARAMS, params);
  }
  get norm() {
    return this.values.norm;
  }
  get epsilon() {
    return this.values.epsilon;
  }
  params() {
    return { ...this.values };
  }
  setParams(params: Record<string, unknown>) {
    this.values = validateParams('pgd', PGD_PARAMS, params, this.values);
  }
  async run(model: Model, x: tf.Tensor, y: tf.Tensor1D, options?: AttackOptions): Promise<AttackResult> {
    const adversarial = await this.generate(model, x, y, options);
    return { adversarial, iterations: new Int32Array(x.shape[0]!).fill(this.values.steps) };
  }
  async generate(model: Model, x: tf.Tensor, y: tf.Tensor1D, options: AttackOptions = {}): Promise<tf.Tensor> {
    const { norm, epsilon, stepSize, steps, randomStart } = this.values;
    const seed = options.seed ?? this.values.seed;
    this.seenSeeds.push(seed);
    const { min, max } = options.bounds ?? model.bounds;
    const objective = (input: tf.Tensor) => crossEntropy(model.logits(input), y);
    const grad = tf.grad(objective);
    let adv = tf.tidy(() =>
      randomStart && norm === 'linf' ? tf.clipByValue(tf.add(x, tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', seed)), min, max) : x.clone(),
    );
    for (let i = 0; i < steps; i++) {
      const next = tf.tidy(() => {
        const g = grad(adv);
        let step: tf.Tensor;
        let delta: tf.Tensor;
        if (norm === 'linf') {
          step = tf.add(adv, tf.mul(tf.sign(g), stepSize));
          delta = tf.clipByValue(tf.sub(step, x), -epsilon, epsilon);
        } else {
          const flat = tf.reshape(g, [g.shape[0]!, -1]);
          const gNorm = tf.reshape(tf.maximum(tf.norm(flat, 2, 1), 1e-12), [-1, ...g.shape.slice(1).map(() => 1)]);
          step = tf.add(adv, tf.mul(tf.div(g, gNorm), stepSize));
          const d = tf.sub(step, x);
          const dNorm = tf.reshape(tf.norm(tf.reshape(d, [d.shape[0]!, -1]), 2, 1), gNorm.shape);
          delta = tf.mul(d, tf.minimum(1, tf.div(epsilon, tf.maximum(dNorm, 1e-12))));
        }
        return tf.clipByValue(tf.add(x, delta), min, max);
      });
      adv.dispose();
      adv = next;
    }
    return adv;
  }
}

/** Registers the stand-in under TOKENS.Attack as 'pgd'. */
export function registerPgdDouble(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Attack, {
    name: 'pgd',
    params: PGD_PARAMS,
    create: (params) => new PgdDouble(params),
  });
}
