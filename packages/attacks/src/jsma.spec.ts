import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { Jsma, bestSaliencyPair, jsma } from './jsma.js';
import { allOtherTargets, attackRecords, randomTargets } from './records.js';
import { linearModel, predict, randomMlp, uniformInputs } from './spec-fixtures.js';

const D = 12;
const BATCH = 8;

describe('JSMA', () => {
  it('picks the pair maximising −(α_p+α_q)(β_p+β_q) with α-sum > 0 and β-sum < 0 inside the domain', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.boolean()), {
          minLength: 2,
          maxLength: 30,
        }),
        (features) => {
          const alpha = features.map((f) => f[0]);
          const beta = features.map((f) => f[1]);
          const domain = Uint8Array.from(features, (f) => (f[2] ? 1 : 0));
          const [p, q] = bestSaliencyPair(alpha, beta, domain);
          let best = 0;
          for (let i = 0; i < alpha.length; i++) {
            for (let j = i + 1; j < alpha.length; j++) {
              const a = alpha[i]! + alpha[j]!;
              const b = beta[i]! + beta[j]!;
              if (domain[i] && domain[j] && a > 0 && b < 0) best = Math.max(best, -a * b);
            }
          }
          if (best === 0) {
            expect([p, q]).toEqual([-1, -1]);
            return;
          }
          expect(domain[p] && domain[q] && p < q).toBeTruthy();
          expect(-(alpha[p]! + alpha[q]!) * (beta[p]! + beta[q]!)).toBe(best);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('only raises features, changes at most γ of them, stays in bounds, and a success hits the target', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 1e6 }),
          fc.double({ min: 0.1, max: 0.6, noNaN: true }),
          fc.double({ min: 0.2, max: 1, noNaN: true }),
          fc.constantFrom('probabilities' as const, 'logits' as const),
          async (seed, gamma, theta, jacobian) => {
            const model = randomMlp(seed, D, 8, 3);
            const x = uniformInputs(seed + 1, BATCH, D);
            const labels = predict(model, x);
            const y = tf.tensor1d(labels, 'int32');
            const targets = tf.tensor1d(randomTargets(labels, 3, seed), 'int32');
            const { adversarial, iterations } = await new Jsma({ gamma, theta, jacobian }).run(model, x, y, { mode: 'targeted', targets });
            const before = x.dataSync();
            const after = adversarial.dataSync();
            const maxIterations = Math.floor((gamma * D) / 2);
            const t = targets.dataSync();
            for (let i = 0; i < BATCH; i++) {
              let changed = 0;
              for (let j = 0; j < D; j++) {
                const a = after[i * D + j]!;
                const b = before[i * D + j]!;
                expect(a).toBeGreaterThanOrEqual(b);
                expect(a).toBeLessThanOrEqual(1);
                if (a !== b) {
                  changed++;
                  expect(a === 1 || Math.abs(a - b - theta) < 1e-6).toBe(true);
                }
              }
              expect(changed).toBeLessThanOrEqual(gamma * D);
              expect(changed).toBeLessThanOrEqual(2 * iterations[i]!);
              expect(iterations[i]).toBeLessThanOrEqual(maxIterations);
            }
            // JSMA stops at the first update that reaches the target: replaying an example that
            // reached it after k updates with a budget of k − 1 updates must leave it short of it.
            const reached = predict(model, adversarial);
            for (const k of new Set(Array.from(iterations).filter((n, i) => n > 0 && reached[i] === t[i]))) {
              const shorter = await new Jsma({ gamma: (2 * (k - 1) + 1) / D, theta, jacobian }).generate(model, x, y, { mode: 'targeted', targets });
              const before = predict(model, shorter);
              for (let i = 0; i < BATCH; i++) {
                if (iterations[i] === k && reached[i] === t[i]) expect(before[i], `example ${i} after ${k - 1} updates`).not.toBe(t[i]);
              }
              shorter.dispose();
            }
            tf.dispose([x, y, targets, adversarial]);
          },
        ),
        { numRuns: 12 },
      ),
    );
  });

  it('reaches most targets of a random MLP within the budget', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(21, 20, 12, 3);
      const x = uniformInputs(22, 10, 20, 0, 0.6);
      const labels = predict(model, x);
      const { examples, targets } = allOtherTargets(labels, 3);
      const xs = tf.gather(x, examples);
      const ys = tf.tensor1d(Array.from(examples, (i) => labels[i]!), 'int32');
      const t = tf.tensor1d(targets, 'int32');
      const adversarial = await jsma(model, xs, ys, { gamma: 0.5, targets: t });
      const records = attackRecords(model, xs, adversarial, ys, { mode: 'targeted', targets: t });
      const rate = records.filter((r) => r.success).length / records.length;
      expect(rate).toBeGreaterThanOrEqual(0.5);
      tf.dispose([x, xs, ys, t, adversarial]);
    });
  });

  it('on a saturated softmax the probability Jacobian is zero (no pair qualifies) but the logit Jacobian still works', async () => {
    await expectNoLeaks(async () => {
      const rng = new Rng(4);
      const weights = [0, 1, 2].map(() => Array.from(rng.normalArray(20)));
      const model = linearModel(weights, [0, 0, 0], 1e4);
      const x = uniformInputs(6, 6, 20, 0, 0.5);
      const labels = predict(model, x);
      const y = tf.tensor1d(labels, 'int32');
      const targets = tf.tensor1d(randomTargets(labels, 3, 1), 'int32');
      const options = { mode: 'targeted' as const, targets };
      const masked = await new Jsma({ jacobian: 'probabilities', gamma: 0.5 }).run(model, x, y, options);
      const logits = await new Jsma({ jacobian: 'logits', gamma: 0.5 }).run(model, x, y, options);
      expect(Array.from(masked.iterations)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(masked.adversarial, x))).dataSync()[0])).toBe(0);
      const records = attackRecords(model, x, logits.adversarial, y, options);
      expect(records.filter((r) => r.success).length).toBeGreaterThanOrEqual(4);
      tf.dispose([x, y, targets, masked.adversarial, logits.adversarial]);
    });
  });

  it('handles 28×28 inputs with memory-bounded pair search', async () => {
    await expectNoLeaks(async () => {
      const rng = new Rng(8);
      const d = 28 * 28;
      const weights = [0, 1].map(() => Array.from(rng.normalArray(d), (v) => v / 28));
      const flat = linearModel(weights, [0, 0]);
      const model = { ...flat, inputShape: [28, 28, 1], logits: (x: tf.Tensor) => tf.tidy(() => flat.logits(tf.reshape(x, [-1, d]))) };
      const x = tf.tensor4d(rng.uniformArray(2 * d, 0, 0.5), [2, 28, 28, 1]);
      const labels = predict(model, x);
      const y = tf.tensor1d(labels, 'int32');
      const targets = tf.tensor1d(Array.from(labels, (l) => 1 - l), 'int32');
      const { adversarial, iterations } = await new Jsma({ gamma: 0.02 }).run(model, x, y, { mode: 'targeted', targets });
      expect(adversarial.shape).toEqual([2, 28, 28, 1]);
      iterations.forEach((n) => expect(n).toBeLessThanOrEqual(Math.floor((0.02 * d) / 2)));
      tf.dispose([x, y, targets, adversarial]);
    });
  });

  it('is targeted only', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(1, D, 4, 3);
      const x = uniformInputs(2, 2, D);
      const y = tf.tensor1d([0, 1], 'int32');
      await expect(new Jsma().generate(model, x, y)).rejects.toThrow(ConfigError);
      await expect(new Jsma().generate(model, x, y, { mode: 'targeted' })).rejects.toThrow(/jsma\.targets/);
      tf.dispose([x, y]);
    });
  });
});

describe('target helpers', () => {
  it('allOtherTargets expands each example to every other class', () => {
    const { examples, targets } = allOtherTargets([2, 0], 4);
    expect(Array.from(examples)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(targets)).toEqual([0, 1, 3, 1, 2, 3]);
    expect(() => allOtherTargets([5], 4)).toThrow(ConfigError);
  });

  it('randomTargets never picks the label and is reproducible', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 50 }), fc.nat(), (labels, seed) => {
        const targets = randomTargets(labels, 10, seed);
        targets.forEach((t, i) => {
          expect(t).not.toBe(labels[i]);
          expect(t >= 0 && t < 10).toBe(true);
        });
        expect(randomTargets(labels, 10, seed)).toEqual(targets);
      }),
      { numRuns: 20 },
    );
  });
});
