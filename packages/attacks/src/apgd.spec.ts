import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { Apgd, apgd } from './apgd.js';
import { apgdCheckpoints, shouldHalveStep } from './apgd-run.js';
import { dlrLoss, targetedDlrLoss } from './objective.js';
import { attackRecords } from './records.js';
import { linearMulticlass, predict, randomMlp, uniformInputs } from './spec-fixtures.js';

const D = 8;
const BATCH = 12;

describe('APGD', () => {
  it('checks the step size at w_j = ⌈p_j·N⌉ with p₁ = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)', () => {
    const p = [0, 0.22];
    while (p.at(-1)! < 1) p.push(p.at(-1)! + Math.max(p.at(-1)! - p.at(-2)! - 0.03, 0.06));
    const fromPaper = p.slice(1).map((pj) => Math.ceil(pj * 100 - 1e-9)).filter((w) => w <= 100);
    expect(apgdCheckpoints(100).map((i) => i + 1)).toEqual(fromPaper);
    expect(apgdCheckpoints(100).map((i) => i + 1)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect(apgdCheckpoints(1)).toEqual([0]);
  });

  it('halves the step on oscillation (condition 1) or on a stall after an unchanged step (condition 2)', () => {
    const base = { interval: 22, rho: 0.75, halvedAtLastCheck: false, bestAtLastCheck: 1, best: 2 };
    expect(shouldHalveStep({ ...base, increases: 16 })).toBe(true); // 16 ≤ 16.5
    expect(shouldHalveStep({ ...base, increases: 17 })).toBe(false);
    expect(shouldHalveStep({ ...base, increases: 20, best: 1 })).toBe(true); // no improvement, step unchanged
    expect(shouldHalveStep({ ...base, increases: 20, best: 1, halvedAtLastCheck: true })).toBe(false);
    expect(shouldHalveStep({ ...base, increases: 20, best: 1.5 })).toBe(false);
  });

  it('DLR is invariant to shifting and scaling the logits; targeted DLR pulls towards the target', () => {
    expectNoLeaks(() => {
      const z = tf.tensor2d([[3, 1, 0.5, -1], [0, 2, 1, 4]]);
      const y = tf.tensor1d([0, 3], 'int32');
      const t = tf.tensor1d([2, 1], 'int32');
      const values = (f: (l: tf.Tensor2D) => tf.Tensor1D) => tf.tidy(() => [Array.from(f(z).dataSync()), Array.from(f(tf.add(tf.mul(z, 7), 3) as tf.Tensor2D).dataSync())]);
      const [plain, scaled] = values((l) => dlrLoss(l, y));
      expect(plain![0]).toBeCloseTo(-(3 - 1) / (3 - 0.5), 5);
      expect(plain![1]).toBeCloseTo(-(4 - 2) / (4 - 1), 5);
      scaled!.forEach((v, i) => expect(v).toBeCloseTo(plain![i]!, 4));
      const [targetedPlain, targetedScaled] = values((l) => targetedDlrLoss(l, y, t));
      expect(targetedPlain![0]).toBeCloseTo(-(3 - 0.5) / (3 - (0.5 - 1) / 2), 5);
      expect(targetedPlain![1]).toBeCloseTo(-(4 - 2) / (4 - (1 + 0) / 2), 5);
      targetedScaled!.forEach((v, i) => expect(v).toBeCloseTo(targetedPlain![i]!, 4));
      tf.dispose([z, y, t]);
    });
  });

  it('on linear classifiers it breaks an example exactly when ε exceeds its distance to the nearest boundary (L∞ and L2, CE, DLR, APGD-T)', async () => {
    await expectNoLeaks(async () => {
      let checked = 0;
      for (let seed = 0; seed < 2; seed++) {
        const batch = 16;
        const { model, xs, labels, linf, l2 } = linearMulticlass(seed, 5, D, batch);
        const x = tf.tensor2d(xs, [batch, D]);
        const y = tf.tensor1d(labels, 'int32');
        for (const norm of ['linf', 'l2'] as const) {
          const distance = norm === 'linf' ? linf : l2;
          const epsilon = Math.min([...distance].sort((a, b) => a - b)[Math.floor(batch / 2)]!, 0.25);
          for (const params of [{ loss: 'ce' as const }, { loss: 'dlr' as const }, { loss: 'dlr' as const, targetClasses: 4 }]) {
            const adversarial = await apgd(model, x, y, { norm, epsilon, steps: 30, seed, ...params });
            const records = attackRecords(model, x, adversarial, y);
            adversarial.dispose();
            records.forEach((r, i) => {
              const label = `seed ${seed} ${norm} ${JSON.stringify(params)} example ${i}: distance ${distance[i]}, ε ${epsilon}`;
              expect(norm === 'linf' ? r.linf : r.l2).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
              if (distance[i]! >= epsilon * (1 + 1e-4)) expect(r.success, label).toBe(false);
              if (distance[i]! <= epsilon / 1.05) {
                expect(r.success, label).toBe(true);
                checked++;
              }
            });
          }
        }
        tf.dispose([x, y]);
      }
      expect(checked).toBeGreaterThanOrEqual(24);
    });
  });

  it('stays within the ε-ball of its norm and the bounds (random models, inputs, ε, losses, modes)', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 1e6 }),
          fc.constantFrom('linf' as const, 'l2' as const),
          fc.double({ min: 0.01, max: 1.5, noNaN: true }),
          fc.constantFrom('ce' as const, 'dlr' as const),
          fc.constantFrom('untargeted', 'targeted', 'apgd-t'),
          async (seed, norm, epsilon, loss, variant) => {
            const model = randomMlp(seed, D, 6, 4);
            const x = uniformInputs(seed + 1, BATCH, D);
            const y = tf.tensor1d(predict(model, x), 'int32');
            const targets = tf.tensor1d(Array.from(predict(model, x), (p) => (p + 1) % 4), 'int32');
            const mode = variant === 'targeted' ? ('targeted' as const) : ('untargeted' as const);
            const attack = new Apgd({ norm, epsilon, steps: 6, loss, restarts: 2, targetClasses: variant === 'apgd-t' ? 2 : 0, seed });
            const { adversarial, iterations } = await attack.run(model, x, y, { mode, targets });
            const records = attackRecords(model, x, adversarial, y, { mode, targets });
            const [lo, hi] = tf.tidy(() => [tf.min(adversarial).dataSync()[0]!, tf.max(adversarial).dataSync()[0]!]);
            expect(lo).toBeGreaterThanOrEqual(0);
            expect(hi).toBeLessThanOrEqual(1);
            const runs = 2 * (variant === 'apgd-t' ? 2 : 1);
            records.forEach((r, i) => {
              expect(norm === 'linf' ? r.linf : r.l2).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
              expect(iterations[i]).toBeGreaterThanOrEqual(0);
              // A robust example used every iteration of every run; a broken one stopped counting.
              if (r.success) expect(iterations[i]).toBeLessThanOrEqual(6 * runs);
              else expect(iterations[i]).toBe(6 * runs);
            });
            tf.dispose([x, y, targets, adversarial]);
          },
        ),
        { numRuns: 15 },
      ),
    );
  });

  it('is reproducible from its seed; options.seed overrides the seed parameter; bad settings throw', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(1, D, 6, 3);
      const x = uniformInputs(2, BATCH, D);
      const y = tf.tensor1d(predict(model, x), 'int32');
      const run = async (params: Record<string, unknown>, seed?: number) => {
        const adversarial = await new Apgd({ steps: 3, epsilon: 0.05, ...params }).generate(model, x, y, { seed });
        const values = adversarial.dataSync().slice();
        adversarial.dispose();
        return values;
      };
      expect(await run({ seed: 5 })).toEqual(await run({ seed: 5 }));
      expect(await run({ seed: 5 })).not.toEqual(await run({ seed: 6 }));
      expect(await run({ seed: 1 }, 5)).toEqual(await run({ seed: 5 }));
      await expect(run({ loss: 'dlr', targetClasses: 2 })).rejects.toThrow(/apgd\.loss: the targeted DLR loss needs ≥ 4 classes, got 3/);
      await expect(new Apgd({ targetClasses: 2 }).generate(model, x, y, { mode: 'targeted', targets: y })).rejects.toThrow(ConfigError);
      expect(() => new Apgd({ rho: 0 })).toThrow(/apgd\.rho/);
      tf.dispose([x, y]);
    });
  });
});
