import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks } from '@tempered/core/testing';
import { attackObjective, objectiveGradient, type ObjectiveOptions } from './objective.js';
import { randomMlp } from './spec-fixtures.js';

const D = 5;
const CLASSES = 3;
const H = 1e-2;

/** Central finite differences of the summed objective at one example x [1, D]. */
function finiteDifferences(model: ReturnType<typeof randomMlp>, x: Float32Array, label: number, options: ObjectiveOptions): Float64Array {
  const out = new Float64Array(D);
  const value = (v: Float32Array): number =>
    tf.tidy(() => attackObjective(model.logits(tf.tensor2d(v, [1, D])), tf.tensor1d([label], 'int32'), options).dataSync()[0]!);
  for (let j = 0; j < D; j++) {
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[j]! += H;
    minus[j]! -= H;
    out[j] = (value(plus) - value(minus)) / (2 * H);
  }
  return out;
}

/** Gap between the two largest logits other than `label` (the margin's max has a kink at 0). */
function otherGap(model: ReturnType<typeof randomMlp>, x: Float32Array, label: number): number {
  const z = tf.tidy(() => model.logits(tf.tensor2d(x, [1, D])).dataSync());
  const others = Array.from(z).filter((_, i) => i !== label).sort((a, b) => b - a);
  return others[0]! - others[1]!;
}

describe('attack objective gradients', () => {
  for (const loss of ['ce', 'margin'] as const) {
    for (const targeted of [false, true]) {
      it(`∇ of ${loss} (${targeted ? 'targeted' : 'untargeted'}) matches central finite differences`, async () => {
        await expectNoLeaks(() =>
          fc.assert(
            fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: CLASSES - 1 }), (seed, label) => {
              const model = randomMlp(seed, D, 6, CLASSES);
              const x = Float32Array.from({ length: D }, (_, j) => ((seed * (j + 3)) % 97) / 97);
              // A large κ keeps the clamp inactive; skip points too near the max's kink.
              const options = { loss, targeted, confidence: 100 };
              if (loss === 'margin' && otherGap(model, x, label) < 0.05) return;
              const analytic = tf.tidy(() => {
                const xt = tf.tensor2d(x, [1, D]);
                const { gradient, logits } = objectiveGradient(model, xt, tf.tensor1d([label], 'int32'), options);
                logits.dispose();
                return gradient.dataSync();
              });
              const numeric = finiteDifferences(model, x, label, options);
              for (let j = 0; j < D; j++) {
                expect(Math.abs(analytic[j]! - numeric[j]!)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric[j]!)));
              }
            }),
            { numRuns: 10 },
          ),
        );
      });
    }
  }

  it('the margin objective is clamped at κ and its gradient vanishes there', async () => {
    await expectNoLeaks(() => {
      const model = randomMlp(3, D, 6, CLASSES);
      tf.tidy(() => {
        const x = tf.fill([4, D], 0.5);
        const z = model.logits(x);
        const top = tf.argMax(z, 1) as tf.Tensor1D;
        // Targeted at the predicted class: margin > 0 = κ, so the objective is exactly κ.
        expect(Array.from(attackObjective(z, top, { loss: 'margin', targeted: true, confidence: 0 }).dataSync())).toEqual([0, 0, 0, 0]);
        const { gradient, logits } = objectiveGradient(model, x, top, { loss: 'margin', targeted: true });
        expect(tf.max(tf.abs(gradient)).dataSync()[0]).toBe(0);
        logits.dispose();
        gradient.dispose();
      });
    });
  });
});
