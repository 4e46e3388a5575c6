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
      for (let seed = 0; seed < 3; seed++) {
        const batch = 16;
        const { model, xs, labels, linf, l2 } = linearMulticlass(seed, 5, D, batch);
        const x = tf.tensor2d(xs, [batch, D]);
        const y = tf.tensor1d(labels, 'int32');
        for (const norm of ['linf', 'l2'] as const) {
          const distance = norm === 'linf' ? linf : l2;
          const epsilon = Math.min([...distance].sort((a, b) => a - b)[Math.floor(batch / 2)]!, 0.25);
          for (const params of [{ loss: 'ce' as const }, { loss: 'dlr' as const }, { loss: 'dlr' as const, targetClasses: 4 }]) {
            const adversarial = await apgd(model, x, y, { norm, epsilon, steps: 50, seed, ...params });
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
      expect(checked).toBeGreaterThan(50);
    });
  });
});
