import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks } from '@tempered/core/testing';
import { Pgd, madryStepSize } from './pgd.js';
import { attackRecords } from './records.js';
import { toModel } from './model-like.js';
import { linearMulticlass, linearProblem, zeroGradient } from './spec-fixtures.js';

const WIDE = { min: -10, max: 10 };

describe('PGD defaults and restarts', () => {
  it('takes Madry et al.\'s step α = 2.5·ε/steps unless given one (hand values)', () => {
    // 2.5 × 0.3 / 40 = 0.01875; 2.5 × 0.3 / 10 = 0.075; 2.5 × 8/255 / 10 = 0.0078431…
    expect(madryStepSize(0.3, 40)).toBeCloseTo(0.01875, 15);
    expect(new Pgd({ epsilon: 0.3 }).effectiveStepSize).toBeCloseTo(0.01875, 15);
    expect(new Pgd({ epsilon: 0.3, steps: 10 }).effectiveStepSize).toBeCloseTo(0.075, 15);
    expect(new Pgd({ epsilon: 8 / 255, steps: 10 }).effectiveStepSize).toBeCloseTo(2 / 255, 15);
    expect(new Pgd({ epsilon: 0.3, stepSize: 0.01 }).effectiveStepSize).toBe(0.01);
  });

  it('defaults to α = 2.5·ε/steps, which crosses the ball at any ε; the old fixed 0.01 does not', async () => {
    await expectNoLeaks(async () => {
      // A two-class linear problem seen through x/10, so the distances to the boundary are ~1.
      const { model, xs, labels, margins, l1 } = linearProblem(2, 8, 16);
      const scaled = toModel((input) => tf.tidy(() => model.logits(tf.mul(input, 0.1))), { numClasses: 2, inputShape: [8] });
      const distance = margins.map((m) => (10 * m) / l1);
      const x = tf.tensor2d(xs.map((v) => v * 10), [16, 8]);
      const y = tf.tensor1d(labels, 'int32');
      const epsilon = Math.max(...distance) * 1.1;
      expect(epsilon).toBeGreaterThan(1);
      expect(new Pgd({ epsilon }).effectiveStepSize).toBeCloseTo((2.5 * epsilon) / 40, 12);
      const successes = async (params: Record<string, unknown>) => {
        const adversarial = await new Pgd({ epsilon, ...params }).generate(scaled, x, y, { bounds: WIDE });
        const out = attackRecords(scaled, x, adversarial, y).map((r) => r.success);
        adversarial.dispose();
        return out;
      };
      const auto = await successes({});
      const old = await successes({ stepSize: 0.01 });
      distance.forEach((d, i) => expect(auto[i], `example ${i}: distance ${d}, ε ${epsilon}`).toBe(true));
      // 40 × 0.01 moves the margin by at most 0.4·‖Δw‖₁: beyond that only a lucky random start helps.
      expect(old.filter(Boolean).length).toBeLessThan(auto.filter(Boolean).length / 2);
      tf.dispose([x, y]);
    });
  });

  it('restarts attack only the examples still robust and find more where the start matters (zeroed gradient)', async () => {
    await expectNoLeaks(async () => {
      const batch = 24;
      const { model, xs, labels, linf } = linearMulticlass(8, 4, 16, batch);
      const masked = zeroGradient(model);
      const x = tf.tensor2d(xs, [batch, 16]);
      const y = tf.tensor1d(labels, 'int32');
      const epsilon = [...linf].sort((a, b) => a - b)[batch / 2]! * 2;
      const run = async (restarts: number) => {
        const { adversarial, iterations } = await new Pgd({ epsilon, steps: 3, restarts, seed: 4 }).run(masked, x, y, { bounds: WIDE });
        const success = attackRecords(masked, x, adversarial, y).map((r) => r.success);
        adversarial.dispose();
        return { success, iterations };
      };
      const one = await run(1);
      const many = await run(10);
      // The first restart is the single run, so nothing it broke is lost; later starts add more.
      one.success.forEach((s, i) => s && expect(many.success[i]).toBe(true));
      expect(many.success.filter(Boolean).length).toBeGreaterThan(one.success.filter(Boolean).length);
      many.success.forEach((s, i) => {
        if (!s) expect(many.iterations[i]).toBe(30);
        else expect(many.iterations[i]! % 3).toBe(0); // a start point is adversarial or not: success at iteration 0 of some restart
      });
      tf.dispose([x, y]);
    });
  });
});
