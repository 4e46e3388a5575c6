import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { Pgd, pgd, sampleBall } from './pgd.js';
import { attackRecords } from './records.js';
import { linearProblem, predict, randomMlp, uniformInputs } from './spec-fixtures.js';

const D = 8;
const BATCH = 12;

describe('PGD', () => {
  it('L2: with ε just above the distance to a linear boundary it crosses at that distance; just below it fails', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 1e6 }), fc.nat(BATCH - 1), async (seed, pick) => {
          const { model, xs, labels, margins, l2 } = linearProblem(seed);
          const distances = margins.map((m) => m / l2);
          const k = distances.findIndex((t, i) => i >= pick && t <= 0.25 && t > 1e-3);
          if (k < 0) return;
          const x = tf.tensor2d(xs, [BATCH, D]);
          const y = tf.tensor1d(labels, 'int32');
          // Without a random start 20 steps reach the sphere along w₁ − w₀; from a random start the
          // radial projection needs more steps to rotate the off-axis part away.
          for (const [epsilon, randomStart, steps] of [
            [distances[k]! * 1.02, false, 20],
            [distances[k]! * 1.02, true, 100],
            [distances[k]! * 0.98, true, 20],
          ] as const) {
            const attack = new Pgd({ norm: 'l2', epsilon, stepSize: epsilon / 10, steps, randomStart, seed });
            const adversarial = await attack.generate(model, x, y);
            const records = attackRecords(model, x, adversarial, y);
            adversarial.dispose();
            records.forEach((r, i) => {
              expect(r.l2).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
              if (Math.abs(distances[i]! / epsilon - 1) < 0.005) return;
              // Nothing beyond the ball succeeds; inside it, the straight path (or enough steps) does.
              const reachable = distances[i]! < epsilon;
              if (!reachable || !randomStart || steps >= 100) {
                expect(r.success, `example ${i}: distance ${distances[i]}, ε ${epsilon}`).toBe(reachable);
              }
              if (r.success) expect(r.l2).toBeGreaterThanOrEqual(distances[i]! * (1 - 1e-3));
            });
            // The picked example: success at a distortion within 3 % of the exact distance.
            if (epsilon > distances[k]!) expect(records[k]!.l2 / distances[k]!).toBeLessThan(1.03);
          }
          tf.dispose([x, y]);
        }),
        { numRuns: 8 },
      ),
    );
  });

  it('records the first iteration at which each example became adversarial', async () => {
    await expectNoLeaks(async () => {
      const stepSize = 0.01;
      const steps = 30;
      let checked = 0;
      for (let seed = 0; seed < 6; seed++) {
        const { model, xs, labels, margins, l1 } = linearProblem(seed);
        const x = tf.tensor2d(xs, [BATCH, D]);
        const y = tf.tensor1d(labels, 'int32');
        const { adversarial, iterations } = await new Pgd({ epsilon: 1, stepSize, steps, randomStart: false }).run(model, x, y);
        // On a linear two-class model each sign step lowers the margin by α‖w₁ − w₀‖₁ (x ± 0.3 stays in bounds).
        margins.forEach((m, i) => {
          const exact = m / (stepSize * l1);
          if (Math.abs(exact - Math.round(exact)) < 0.01) return;
          const expected = Math.ceil(exact);
          expect(iterations[i], `seed ${seed} example ${i}`).toBe(Math.min(expected, steps));
          if (expected <= steps) checked++;
        });
        tf.dispose([x, y, adversarial]);
      }
      expect(checked).toBeGreaterThan(5);
    });
  });

  it('stays within the ε-ball of its norm and the bounds (random models, inputs, ε, modes)', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 1e6 }),
          fc.constantFrom('linf' as const, 'l2' as const),
          fc.double({ min: 0.01, max: 1, noNaN: true }),
          fc.constantFrom('ce' as const, 'margin' as const),
          fc.boolean(),
          async (seed, norm, epsilon, loss, targeted) => {
            const model = randomMlp(seed, D, 6, 3);
            const x = uniformInputs(seed + 1, BATCH, D);
            const y = tf.tensor1d(predict(model, x), 'int32');
            const targets = tf.tensor1d(Array.from(predict(model, x), (p) => (p + 1) % 3), 'int32');
            const mode = targeted ? ('targeted' as const) : ('untargeted' as const);
            const attack = new Pgd({ norm, epsilon, stepSize: epsilon / 4, steps: 5, loss, seed });
            const { adversarial, iterations } = await attack.run(model, x, y, { mode, targets });
            const records = attackRecords(model, x, adversarial, y, { mode, targets });
            const [lo, hi] = tf.tidy(() => [tf.min(adversarial).dataSync()[0]!, tf.max(adversarial).dataSync()[0]!]);
            expect(lo).toBeGreaterThanOrEqual(0);
            expect(hi).toBeLessThanOrEqual(1);
            const predictions = predict(model, adversarial);
            const targetValues = targets.dataSync();
            const labels = y.dataSync();
            records.forEach((r, i) => {
              expect(norm === 'linf' ? r.linf : r.l2).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
              expect(iterations[i]).toBeGreaterThanOrEqual(0);
              expect(iterations[i]).toBeLessThanOrEqual(5);
              // keepSuccessful: an example PGD found adversarial at some iterate (< steps) comes back
              // adversarial, checked on the model's own prediction; one never found ends at `steps`.
              const adversarialNow = targeted ? predictions[i] === targetValues[i] : predictions[i] !== labels[i];
              if (iterations[i]! < 5) expect(adversarialNow, `example ${i}: first success at ${iterations[i]}`).toBe(true);
              if (!adversarialNow) expect(iterations[i]).toBe(5);
            });
            tf.dispose([x, y, targets, adversarial]);
          },
        ),
        { numRuns: 15 },
      ),
    );
  });

  it('targeted PGD with a generous budget reaches the target', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(7, D, 10, 3);
      const x = uniformInputs(8, BATCH, D, 0.25, 0.75);
      const y = tf.tensor1d(predict(model, x), 'int32');
      const targets = tf.tensor1d(Array.from(predict(model, x), (p) => (p + 1) % 3), 'int32');
      const adversarial = await pgd(model, x, y, { epsilon: 1, stepSize: 0.05, steps: 40, mode: 'targeted', targets });
      const records = attackRecords(model, x, adversarial, y, { mode: 'targeted', targets });
      // Reachability depends on the random model; most targets of a 3-class MLP are reachable with ε = 1.
      expect(records.filter((r) => r.success).length).toBeGreaterThanOrEqual(BATCH * 0.75);
      tf.dispose([x, y, targets, adversarial]);
    });
  });

  it('is reproducible from its seed; options.seed overrides the seed parameter', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(1, D, 6, 3);
      const x = uniformInputs(2, BATCH, D);
      const y = tf.tensor1d(predict(model, x), 'int32');
      const run = async (params: Record<string, unknown>, seed?: number) => {
        const adversarial = await new Pgd({ steps: 2, ...params }).generate(model, x, y, { seed });
        const values = adversarial.dataSync().slice();
        adversarial.dispose();
        return values;
      };
      expect(await run({ seed: 5 })).toEqual(await run({ seed: 5 }));
      expect(await run({ seed: 5 })).not.toEqual(await run({ seed: 6 }));
      expect(await run({ seed: 1 }, 5)).toEqual(await run({ seed: 5 }));
      tf.dispose([x, y]);
    });
  });

  it('samples random starts uniformly inside the ball', async () => {
    await expectNoLeaks(() => {
      const d = 16;
      for (const norm of ['linf', 'l2'] as const) {
        const noise = sampleBall([2000, d], norm, 0.5, new Rng(3));
        const [maxNorm, meanNorm] = tf.tidy(() => {
          const flat = tf.reshape(noise, [2000, d]);
          const norms = norm === 'linf' ? tf.max(tf.abs(flat), 1) : tf.norm(flat, 2, 1);
          return [tf.max(norms).dataSync()[0]!, tf.mean(norms).dataSync()[0]!];
        });
        noise.dispose();
        expect(maxNorm).toBeLessThanOrEqual(0.5 + 1e-6);
        // Uniform in the L2 ball: E‖δ‖ = ε·d/(d+1); for the L∞ cube the max of d uniforms: ε·d/(d+1) too.
        expect(meanNorm).toBeCloseTo((0.5 * d) / (d + 1), 2);
      }
    });
  });
});
