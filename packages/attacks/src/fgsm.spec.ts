import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks } from '@tempered/core/testing';
import { Fgsm, fgsm } from './fgsm.js';
import { Pgd } from './pgd.js';
import { linearProblem, predict, randomMlp, uniformInputs } from './spec-fixtures.js';

const D = 8;
const BATCH = 12;


describe('FGSM', () => {
  it('flips a linear classifier exactly when ε exceeds margin / ‖w₁ − w₀‖₁ (FGSM and PGD-L∞)', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 1e6 }), fc.nat(BATCH - 1), async (seed, pick) => {
          const { model, xs, labels, margins, l1 } = linearProblem(seed);
          const thresholds = margins.map((m) => m / l1);
          const k = thresholds.findIndex((t, i) => i >= pick && t <= 0.25 && t > 1e-3);
          if (k < 0) return;
          const x = tf.tensor2d(xs, [BATCH, D]);
          const y = tf.tensor1d(labels, 'int32');
          for (const epsilon of [thresholds[k]! * 0.99, thresholds[k]! * 1.01]) {
            const attacks = [
              new Fgsm({ epsilon }),
              new Pgd({ epsilon, stepSize: epsilon / 8, steps: 12, randomStart: false, loss: 'margin' }),
            ];
            for (const attack of attacks) {
              const adversarial = await attack.generate(model, x, y);
              const flipped = predict(model, adversarial).map((p, i) => (p !== labels[i] ? 1 : 0));
              adversarial.dispose();
              thresholds.forEach((t, i) => {
                if (Math.abs(t / epsilon - 1) < 0.004) return; // too close to call in float32
                expect(flipped[i], `${attack.name} example ${i}: threshold ${t}, ε ${epsilon}`).toBe(t < epsilon ? 1 : 0);
              });
            }
          }
          tf.dispose([x, y]);
        }),
        { numRuns: 10 },
      ),
    );
  });

  it('targeted FGSM steps down the cross-entropy of the target', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(11, D, 10, 4);
      const x = uniformInputs(5, BATCH, D, 0.2, 0.8);
      const y = tf.tensor1d(predict(model, x), 'int32');
      const targets = tf.tensor1d(Array.from(predict(model, x), (p) => (p + 1) % 4), 'int32');
      const adversarial = await fgsm(model, x, y, { epsilon: 0.02, mode: 'targeted', targets });
      const ce = (input: tf.Tensor) =>
        tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(targets, 4), model.logits(input), undefined, 0, tf.Reduction.NONE).dataSync());
      const before = ce(x);
      const after = ce(adversarial);
      // First-order: a small signed step lowers the target's loss for every example.
      before.forEach((b, i) => expect(after[i]).toBeLessThan(b));
      tf.dispose([x, y, targets, adversarial]);
    });
  });

  it('stays within ε (L∞) and the bounds on random models and inputs', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 1e6 }), fc.double({ min: 0, max: 0.5, noNaN: true }), async (seed, epsilon) => {
          const model = randomMlp(seed, D, 6, 3);
          const x = uniformInputs(seed + 1, BATCH, D);
          const y = tf.tensor1d(predict(model, x), 'int32');
          const adversarial = await new Fgsm({ epsilon }).generate(model, x, y);
          const [lo, hi, linf] = tf.tidy(() => [tf.min(adversarial), tf.max(adversarial), tf.max(tf.abs(tf.sub(adversarial, x)))].map((t) => t.dataSync()[0]!));
          expect(lo).toBeGreaterThanOrEqual(0);
          expect(hi).toBeLessThanOrEqual(1);
          expect(linf).toBeLessThanOrEqual(epsilon + 1e-6);
          tf.dispose([x, y, adversarial]);
        }),
        { numRuns: 15 },
      ),
    );
  });
});
