import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { container } from 'tsyringe';
import { TOKENS, createPlugin, listPlugins, type Metric } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import type { GradientHistogram } from '@tempered/reports';
import { register, vectorNorm, EVALUATED_MODEL, type IndexedEvaluationBatch, type DistortionResult } from './index.js';
import { fixtureDataset, fixtureModel } from './spec-fixtures.js';

function scope() {
  const c = container.createChildContainer();
  register(c);
  return c;
}

/** One-hot-ish logits whose argmax is `predictions`. */
function logitsFor(predictions: number[], classes = 3, peak = 5): tf.Tensor2D {
  return tf.tensor2d(predictions.flatMap((p) => Array.from({ length: classes }, (_, c) => (c === p ? peak : 0))), [predictions.length, classes]);
}

function withBatch<T>(spec: { labels: number[]; clean: number[]; adversarial?: number[]; targets?: number[]; delta?: number[][]; indices?: number[] }, fn: (batch: IndexedEvaluationBatch) => T): T {
  const n = spec.labels.length;
  const x = tf.fill([n, 4], 0.5);
  const labels = tf.tensor1d(spec.labels, 'int32');
  const logits = logitsFor(spec.clean);
  const adversarial = spec.delta ? tf.tidy(() => tf.add(x, tf.tensor2d(spec.delta!))) : undefined;
  const adversarialLogits = spec.adversarial ? logitsFor(spec.adversarial) : undefined;
  const targets = spec.targets ? tf.tensor1d(spec.targets, 'int32') : undefined;
  try {
    return fn({
      modelName: 'm',
      x,
      labels,
      logits,
      ...(spec.indices ? { indices: Int32Array.from(spec.indices) } : {}),
      ...(adversarial && adversarialLogits
        ? { attack: { name: 'fake', mode: targets ? 'targeted' : 'untargeted', adversarial, adversarialLogits, ...(targets ? { targets } : {}) } as const }
        : {}),
    });
  } finally {
    tf.dispose([x, labels, logits]);
    tf.dispose([adversarial, adversarialLogits, targets].filter((t): t is tf.Tensor => t !== undefined));
  }
}

describe('metrics', () => {
  it('registers every metric by name under TOKENS.Metric, and a second registration throws', () => {
    const c = scope();
    expect(listPlugins(c, TOKENS.Metric)).toEqual([
      'adversarial-robustness', 'agreement', 'clean-accuracy', 'confidence', 'distortion', 'gradient-norms', 'robust-accuracy', 'success-rate',
    ]);
    expect(() => register(c)).toThrow(/already registered/);
    expect(() => createPlugin(c, TOKENS.Metric, 'success-rate', { atack: 'x' })).toThrow(/unknown parameter/);
  });

  it('counts clean accuracy, untargeted success over correctly classified examples, and robust accuracy', async () => {
    await expectNoLeaks(async () => {
      const c = scope();
      const clean = createPlugin(c, TOKENS.Metric, 'clean-accuracy') as Metric<number>;
      const success = createPlugin(c, TOKENS.Metric, 'success-rate') as Metric<number>;
      const robust = createPlugin(c, TOKENS.Metric, 'robust-accuracy') as Metric<number>;
      withBatch({ labels: [0, 1, 2, 0], clean: [0, 1, 2, 1] }, (b) => clean.update(b));
      // Example 3 is misclassified: excluded from the success denominator, never robust.
      const delta = [[0.1, 0, 0, 0], [0, 0, 0, 0], [0.3, -0.4, 0, 0], [0, 0, 0, 0]];
      withBatch({ labels: [0, 1, 2, 0], clean: [0, 1, 2, 1], adversarial: [0, 2, 0, 1], delta }, (b) => {
        success.update(b);
        robust.update(b);
      });
      expect(clean.result()).toBe(0.75);
      expect(success.result()).toBeCloseTo(2 / 3);
      expect(robust.result()).toBe(0.25);
    });
  });

  it('measures distortion and ρ_adv over successful rows only', async () => {
    await expectNoLeaks(async () => {
      const c = scope();
      const distortion = createPlugin(c, TOKENS.Metric, 'distortion') as Metric<DistortionResult>;
      const rho = createPlugin(c, TOKENS.Metric, 'adversarial-robustness', { attack: 'fake' }) as Metric<number>;
      const delta = [[0.3, -0.4, 0, 0], [0.5, 0, 0, 0], [1e-8, 0, 0, 0.2]];
      withBatch({ labels: [0, 1, 2], clean: [0, 1, 2], adversarial: [1, 0, 2], delta }, (b) => {
        distortion.update(b);
        rho.update(b);
      });
      const d = distortion.result();
      expect(d.count).toBe(2);
      expect(d.meanL2).toBeCloseTo((0.5 + 0.5) / 2, 5);
      expect(d.meanLinf).toBeCloseTo((0.4 + 0.5) / 2, 5);
      expect(d.meanL0).toBe(1.5);
      expect(d.medianL0).toBe(1.5);
      expect(rho.result()).toBeCloseTo((2 / 4 + 1 / 4) / 2);
    });
  });

  it('counts targeted success over (example, target) pairs and robustness over all of an example’s rows', async () => {
    await expectNoLeaks(async () => {
      const c = scope();
      const success = createPlugin(c, TOKENS.Metric, 'success-rate') as Metric<number>;
      const robust = createPlugin(c, TOKENS.Metric, 'robust-accuracy') as Metric<number>;
      const zero = [0, 0, 0, 0];
      // Example 0 (label 0): targets 1 reached, 2 missed. Example 1 (label 1): both missed, prediction stays 1.
      withBatch(
        { labels: [0, 0, 1, 1], clean: [0, 0, 1, 1], adversarial: [1, 0, 1, 1], targets: [1, 2, 0, 2], delta: [zero, zero, zero, zero], indices: [0, 0, 1, 1] },
        (b) => {
          success.update(b);
          robust.update(b);
        },
      );
      expect(success.result()).toBe(0.25);
      expect(robust.result()).toBe(0.5);
    });
  });

  it('confidence averages the max softmax over correct examples; agreement compares argmaxes', async () => {
    await expectNoLeaks(async () => {
      const c = scope();
      const confidence = createPlugin(c, TOKENS.Metric, 'confidence') as Metric<number>;
      const agreement = createPlugin(c, TOKENS.Metric, 'agreement') as Metric<number>;
      const x = tf.zeros([3, 2]);
      const labels = tf.tensor1d([0, 1, 1], 'int32');
      const logits = tf.tensor2d([[Math.log(3), 0], [0, 0], [5, 0]]);
      const teacherLogits = tf.tensor2d([[1, 0], [0, 1], [0, 1]]);
      const batch = { modelName: 'm', x, labels, logits, teacherLogits };
      confidence.update(batch);
      agreement.update(batch);
      tf.dispose([x, labels, logits, teacherLogits]);
      expect(confidence.result()).toBeCloseTo(0.75, 5); // only example 0 is correct: softmax(ln 3, 0) = 0.75
      expect(agreement.result()).toBeCloseTo(1 / 3);
    });
  });

  it('gradient norms: a saturated (distilled-like) model has exactly-zero loss gradients at T = 1, a calibrated one does not', async () => {
    const data = fixtureDataset(12);
    const histogramOf = async (logitScale: number) => {
      const model = fixtureModel('g', logitScale);
      try {
        return await expectNoLeaks(async () => {
          const c = scope();
          c.register(EVALUATED_MODEL, { useValue: model });
          const metric = createPlugin(c, TOKENS.Metric, 'gradient-norms', { quantity: 'loss', norm: 'l2' }) as Metric<GradientHistogram>;
          const { x, labels } = data.batch(Array.from({ length: 12 }, (_, i) => i));
          const logits = model.logits(x);
          metric.update({ modelName: 'g', x, labels, logits });
          tf.dispose([x, labels, logits]);
          return metric.result();
        });
      } finally {
        model.dispose();
      }
    };
    const calibrated = await histogramOf(1);
    const saturated = await histogramOf(5000);
    expect(calibrated.count).toBe(12);
    expect(calibrated.zeros).toBe(0);
    expect(calibrated.median!).toBeGreaterThan(1e-3);
    expect(calibrated.counts.reduce((a, b) => a + b, 0) + calibrated.underflow + calibrated.overflow).toBe(12);
    expect(saturated.zeros).toBeGreaterThan(6);
    expect(() => createPlugin(scope(), TOKENS.Metric, 'gradient-norms')).toThrow(/EVALUATED_MODEL/);
  });

  it('gradient norms do not underflow: components of 1e-30 give a norm of ~1e-30, not "exactly zero"', async () => {
    // float32 squares of 1e-30 are 0 (below ~1e-19 every square underflows): the old ‖g‖₂ = sqrt(sum(g²)),
    // summed in float32 as tfjs does, said 0. The norm must follow its input's scale across the whole
    // float32 range, agreeing with Math.hypot (float64, scaled, overflow- and underflow-safe).
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: Math.fround(0.1), max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.integer({ min: -36, max: 30 }),
        (magnitudes, negative, exponent) => {
          const g = Float32Array.from(magnitudes, (m, i) => (negative[i] ? -m : m) * 10 ** exponent);
          const l1 = Array.from(g).reduce((sum, v) => sum + Math.abs(v), 0);
          expect(vectorNorm(g, 'l2') / Math.hypot(...g)).toBeCloseTo(1, 12);
          expect(vectorNorm(g, 'l1') / l1).toBeCloseTo(1, 12);
        },
      ),
      { seed: 26, numRuns: 200 },
    );
    expect(vectorNorm(Float32Array.from([1e-30, -1e-30, 0, 0]), 'l2')).toBeCloseTo(Math.SQRT2 * Math.fround(1e-30), 40);
    expect(vectorNorm(Float32Array.from([3e-45, 0]), 'l1')).toBeGreaterThan(0);
    expect(vectorNorm(Float32Array.from([0, 0, 0]), 'l2')).toBe(0);
    expect(vectorNorm(Float32Array.from([1, Number.NaN]), 'l2')).toBeNaN();
    expect(vectorNorm([3e38, 3e38], 'l2')).toBeCloseTo(Math.SQRT2 * 3e38, -30);
    // A linear model with weights ~1e-30: softmax is uniform, so ∇ₓ CE = W (p − onehot(y)) has components ~1e-30.
    const scale = 1e-30;
    const model = fixtureModel('tiny', scale);
    const data = fixtureDataset(6);
    try {
      const histogram = await expectNoLeaks(async () => {
        const c = scope();
        c.register(EVALUATED_MODEL, { useValue: model });
        const metric = createPlugin(c, TOKENS.Metric, 'gradient-norms', { quantity: 'loss', norm: 'l2' }) as Metric<GradientHistogram>;
        const { x, labels } = data.batch(Array.from({ length: 6 }, (_, i) => i));
        const logits = model.logits(x);
        metric.update({ modelName: 'tiny', x, labels, logits });
        tf.dispose([x, labels, logits]);
        return metric.result();
      });
      const [kernel] = model.layersModel.layers[1]!.getWeights().map((w) => w.dataSync());
      const expectedNorm = (label: number) => {
        let sum = 0;
        for (let j = 0; j < 16; j++) {
          let g = 0;
          for (let c = 0; c < 3; c++) g += kernel![j * 3 + c]! * (1 / 3 - (c === label ? 1 : 0));
          sum += g * g;
        }
        return Math.sqrt(sum);
      };
      expect(histogram.zeros).toBe(0);
      expect(histogram.nonFinite).toBe(0);
      const batch = data.batch([0, 1, 2, 3, 4, 5]);
      const expected = Array.from(batch.labels.dataSync() as Int32Array, expectedNorm).sort((a, b) => a - b);
      tf.dispose([batch.x, batch.labels]);
      expect(histogram.median! / ((expected[2]! + expected[3]!) / 2)).toBeCloseTo(1, 3);
      expect(histogram.counts.reduce((a, b) => a + b, 0)).toBe(6); // binned at 1e-30, inside the float32 range of the axis
      expect(histogram.underflow).toBe(0);
    } finally {
      model.dispose();
    }
  });
});
