import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { Apgd } from './apgd.js';
import { Pgd } from './pgd.js';
import { attackRecords } from './records.js';
import { predict, linearMulticlass, randomMlp, tinyCnn, uniformInputs, zeroGradient } from './spec-fixtures.js';
import { Square, square } from './square.js';
import { squareFraction } from './square-steps.js';

const SHAPE = [4, 4, 2];
const D = 32;

describe('Square Attack', () => {
  it("follows the authors' p schedule (halving after 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 iterations)", () => {
    expect([0, 10, 11, 50, 51, 200, 201, 500, 501, 1000, 1001, 2000, 2001, 4000, 4001, 5000].map((i) => squareFraction(0.8, i, 5000, false) / 0.8)).toEqual([
      1, 1, 1 / 2, 1 / 2, 1 / 4, 1 / 4, 1 / 8, 1 / 8, 1 / 16, 1 / 16, 1 / 32, 1 / 32, 1 / 64, 1 / 64, 1 / 128, 1 / 128,
    ]);
    // Rescaled to 1000 queries: iteration 100 is 1000 of 10 000.
    expect(squareFraction(0.8, 100, 1000, true)).toBe(0.8 / 16);
    expect(squareFraction(0.8, 9999, 10_000, true)).toBe(0.8 / 512);
  });

  it('L∞ on linear classifiers (image-shaped, 2 channels): breaks an example exactly when ε exceeds its distance to the boundary', async () => {
    await expectNoLeaks(async () => {
      let checked = 0;
      for (let seed = 0; seed < 2; seed++) {
        const batch = 16;
        const { model, xs, labels, linf } = linearMulticlass(seed, 4, D, batch, SHAPE);
        const x = tf.tensor(xs, [batch, ...SHAPE]);
        const y = tf.tensor1d(labels, 'int32');
        const epsilon = Math.min([...linf].sort((a, b) => a - b)[Math.floor(batch / 2)]!, 0.25) * 1.02;
        const { adversarial, iterations } = await new Square({ epsilon, queries: 1000, seed }).run(model, x, y);
        const records = attackRecords(model, x, adversarial, y);
        adversarial.dispose();
        records.forEach((r, i) => {
          const label = `seed ${seed} example ${i}: distance ${linf[i]}, ε ${epsilon}`;
          expect(r.linf).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
          if (linf[i]! >= epsilon * (1 + 1e-4)) expect(r.success, label).toBe(false);
          if (linf[i]! <= epsilon / 1.05) {
            expect(r.success, label).toBe(true);
            checked++;
          }
          expect(iterations[i]).toBeGreaterThanOrEqual(1);
          expect(iterations[i]).toBeLessThanOrEqual(1000);
          if (!r.success) expect(iterations[i]).toBe(1000);
        });
        tf.dispose([x, y]);
      }
      expect(checked).toBeGreaterThan(12);
    });
  });

  it('L2 on linear classifiers (8×8 images): never beyond the ball, and within 2× of the exact distance it succeeds', async () => {
    // L2 random search converges more slowly than L∞ (1.5× the exact distance takes ~5000 queries
    // here), so the success side is checked at half the budget; bounds are wide so they never bind.
    await expectNoLeaks(async () => {
      const batch = 24;
      const { model, xs, labels, l2 } = linearMulticlass(5, 4, 64, batch, [8, 8, 1]);
      const x = tf.tensor(xs, [batch, 8, 8, 1]);
      const y = tf.tensor1d(labels, 'int32');
      const epsilon = 2 * [...l2].sort((a, b) => a - b)[6]!;
      const adversarial = await square(model, x, y, { norm: 'l2', epsilon, queries: 1000, seed: 1, bounds: { min: -10, max: 10 } });
      const records = attackRecords(model, x, adversarial, y);
      adversarial.dispose();
      let checked = 0;
      records.forEach((r, i) => {
        expect(r.l2).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
        if (l2[i]! >= epsilon * (1 + 1e-4)) expect(r.success).toBe(false);
        if (l2[i]! <= epsilon / 2) {
          expect(r.success, `example ${i}: distance ${l2[i]}, ε ${epsilon}`).toBe(true);
          checked++;
        }
      });
      expect(checked).toBeGreaterThanOrEqual(7);
      tf.dispose([x, y]);
    });
  });

  it('breaks a model whose input gradient is zeroed, where PGD and APGD stay at their random start', async () => {
    await expectNoLeaks(async () => {
      const batch = 16;
      const { model, xs, labels, linf } = linearMulticlass(11, 4, 64, batch, [8, 8, 1]);
      const masked = zeroGradient(model);
      const x = tf.tensor(xs, [batch, 8, 8, 1]);
      const y = tf.tensor1d(labels, 'int32');
      // Every example's boundary is within ε; the far half (distance > ε/2) is out of reach of a random start in 64 dimensions.
      const epsilon = Math.min(Math.max(...linf) * 1.1, 0.25);
      const reachable = linf.map((d) => d <= epsilon / 1.05);
      const far = linf.map((d, i) => reachable[i] && d > epsilon / 2);
      expect(far.filter(Boolean).length).toBeGreaterThan(3);
      const outcomes: Record<string, boolean[]> = {};
      for (const attack of [new Square({ epsilon, queries: 1000, seed: 2 }), new Pgd({ epsilon, stepSize: epsilon / 4, steps: 20, seed: 2 }), new Apgd({ epsilon, steps: 20, seed: 2 }), new Apgd({ epsilon, steps: 20, loss: 'dlr', seed: 2 })]) {
        const adversarial = await attack.generate(masked, x, y);
        outcomes[`${attack.name}-${String(attack.params().loss)}`] = attackRecords(masked, x, adversarial, y).map((r) => r.success);
        adversarial.dispose();
      }
      const square = outcomes['square-margin']!;
      reachable.forEach((r, i) => r && expect(square[i], `square, example ${i}`).toBe(true));
      for (const name of ['pgd-ce', 'apgd-ce', 'apgd-dlr']) far.forEach((f, i) => f && expect(outcomes[name]![i], `${name}, example ${i}`).toBe(false));
      // Control: with its gradient, the same APGD breaks them.
      const unmasked = await new Apgd({ epsilon, steps: 20, seed: 2 }).generate(model, x, y);
      attackRecords(model, x, unmasked, y).forEach((r, i) => reachable[i] && expect(r.success, `apgd with gradients, example ${i}`).toBe(true));
      unmasked.dispose();
      tf.dispose([x, y]);
    });
  });

  it('stays within the ε-ball and the bounds and counts its queries (random models and inputs, both norms, both modes)', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 1e6 }),
          fc.constantFrom('linf' as const, 'l2' as const),
          fc.double({ min: 0.01, max: 1.5, noNaN: true }),
          fc.boolean(),
          fc.boolean(),
          async (seed, norm, epsilon, targeted, image) => {
            const model = image ? tinyCnn(seed % 1000) : randomMlp(seed, 12, 8, 3);
            const shape = image ? [6, 6, 1] : [12];
            const x = tf.tensor(new Rng(seed + 1).uniformArray(6 * shape.reduce((a, b) => a * b, 1), 0, 1), [6, ...shape]);
            const y = tf.tensor1d(predict(model, x), 'int32');
            const targets = tf.tensor1d(Array.from(predict(model, x), (p) => (p + 1) % 3), 'int32');
            const mode = targeted ? ('targeted' as const) : ('untargeted' as const);
            const queries = 30;
            const { adversarial, iterations } = await new Square({ norm, epsilon, queries, seed }).run(model, x, y, { mode, targets });
            const records = attackRecords(model, x, adversarial, y, { mode, targets });
            const [lo, hi] = tf.tidy(() => [tf.min(adversarial).dataSync()[0]!, tf.max(adversarial).dataSync()[0]!]);
            expect(lo).toBeGreaterThanOrEqual(0);
            expect(hi).toBeLessThanOrEqual(1);
            records.forEach((r, i) => {
              expect(norm === 'linf' ? r.linf : r.l2).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
              // Every example was correctly classified, so it used 1..queries queries; all of them when it stayed robust.
              expect(iterations[i]).toBeGreaterThanOrEqual(1);
              expect(iterations[i]).toBeLessThanOrEqual(queries);
              if (!r.success) expect(iterations[i]).toBe(queries);
            });
            if (image) model.dispose();
            tf.dispose([x, y, targets, adversarial]);
          },
        ),
        { numRuns: 12 },
      ),
    );
  });

  it('is reproducible from its seed and skips examples already misclassified (0 queries)', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(3, 12, 8, 3);
      const x = uniformInputs(4, 8, 12);
      const predictions = predict(model, x);
      const y = tf.tensor1d(Array.from(predictions, (p, i) => (i === 0 ? (p + 1) % 3 : p)), 'int32');
      const run = async (seed: number) => {
        const { adversarial, iterations } = await new Square({ epsilon: 0.05, queries: 20, seed }).run(model, x, y);
        const values = adversarial.dataSync().slice();
        adversarial.dispose();
        return { values, iterations };
      };
      const a = await run(1);
      expect((await run(1)).values).toEqual(a.values);
      expect((await run(2)).values).not.toEqual(a.values);
      expect(a.iterations[0]).toBe(0);
      expect(Array.from(a.values.slice(0, 12))).toEqual(Array.from(x.dataSync().slice(0, 12)));
      tf.dispose([x, y]);
    });
  });
});
