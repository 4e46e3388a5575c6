import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { register as registerAttacks } from '@tempered/attacks';
import type { Dataset, Model } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { evaluate, register } from './node.js';
import { fixtureDataset, fixtureModel } from './spec-fixtures.js';

const EXAMPLES = 24;
const EPSILON = 0.3;
const GAMMA = 0.5;

/**
 * The exact L∞ robust accuracy of a linear model z = W·x + b on inputs in [0, 1]: example (x, y)
 * is robust iff for every class k ≠ y the worst point of the ε-box ∩ [0, 1] for the difference
 * d = w_y − w_k, x′_j = clip(x_j − ε·sign(d_j), 0, 1), still gives d·x′ + b_y − b_k > 0.
 */
function exactRobustAccuracy(model: Model, data: Dataset, count: number, epsilon: number): number {
  const [kernel, bias] = model.getWeights().map((w) => {
    const values = w.arraySync() as number[][] | number[];
    w.dispose();
    return values;
  }) as [number[][], number[]];
  const { x, labels } = data.batch(Int32Array.from({ length: count }, (_, i) => i));
  const inputs = tf.reshape(x, [count, -1]).arraySync() as number[][];
  const ys = Array.from(labels.dataSync());
  tf.dispose([x, labels]);
  const classes = bias.length;
  let robust = 0;
  inputs.forEach((row, i) => {
    const y = ys[i]!;
    const logits = (input: number[]) => Array.from({ length: classes }, (_, c) => input.reduce((s, v, j) => s + v * kernel[j]![c]!, bias[c]!));
    if (logits(row).some((z, c) => c !== y && z >= logits(row)[y]!)) return;
    const holds = Array.from({ length: classes }, (_, k) => k)
      .filter((k) => k !== y)
      .every((k) => {
        const worst = row.map((v, j) => Math.min(1, Math.max(0, v - epsilon * Math.sign(kernel[j]![y]! - kernel[j]![k]!))));
        const z = logits(worst);
        return z[y]! - z[k]! > 0;
      });
    if (holds) robust++;
  });
  return robust / count;
}

describe('evaluate with the real @tempered/attacks', () => {
  it('runs FGSM, PGD (+ its margin twin), targeted JSMA on every other class, and reports ρ_adv', async () => {
    const c = container.createChildContainer();
    register(c);
    registerAttacks(c);
    const model = fixtureModel('real');
    const test = fixtureDataset(EXAMPLES);
    try {
      const results = await expectNoLeaks(() =>
        evaluate({
          container: c, test, examples: EXAMPLES, batchSize: 12, seed: 2,
          attacks: [
            { name: 'fgsm', params: { epsilon: EPSILON } },
            { name: 'pgd', params: { epsilon: EPSILON, steps: 10, stepSize: 0.1 } },
            { name: 'jsma', mode: 'targeted', params: { gamma: GAMMA } },
          ],
          models: [{ name: 'real', method: 'standard', model }],
          diagnostics: { sweep: { epsilons: [0.3, 1], examples: 6 } },
        }),
      );
      const m = results.models['real']!;
      expect(Object.keys(m.attacks)).toEqual(['fgsm', 'pgd', 'jsma', 'pgd-margin']);
      expect(m.attacks['pgd-margin']!.params['loss']).toBe('margin');
      expect(m.attacks['jsma']!.pairs).toBe(EXAMPLES * 2);
      // ρ_adv is the mean fraction of features JSMA changed on its successes: a real number in
      // (0, γ] on this model, which JSMA breaks for some targets.
      expect(m.attacks['jsma']!.successRate!).toBeGreaterThan(0);
      expect(m.attacks['jsma']!.rhoAdv!).toBeGreaterThan(0);
      expect(m.attacks['jsma']!.rhoAdv!).toBeLessThanOrEqual(GAMMA);
      // On a linear model the exact robust accuracy is known: PGD and its margin twin reach it (an
      // attack can never go below it without leaving the ε-ball), and some examples do fall.
      const exact = exactRobustAccuracy(model, test, EXAMPLES, EPSILON);
      expect(exact).toBeLessThan(m.cleanAccuracy);
      expect(m.attacks['pgd']!.robustAccuracy!).toBeCloseTo(exact, 9);
      expect(m.attacks['pgd-margin']!.robustAccuracy!).toBeCloseTo(exact, 9);
      expect(m.attacks['fgsm']!.robustAccuracy!).toBeGreaterThanOrEqual(exact);
      expect(m.epsilonSweep!.points.at(-1)!.robustAccuracy).toBe(0);
      expect(m.diagnostics.filter((d) => d.severity === 'warning')).toEqual([]);
    } finally {
      model.dispose();
    }
  });
});
