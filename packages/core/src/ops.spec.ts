import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crossEntropy, klDivergence, softCrossEntropy, softmaxAt } from './ops.js';
import { expectNoLeaks } from './testing.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function softmaxJs(z: number[], t: number): number[] {
  const m = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const logitsArb = fc.array(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 });

/** The analytic gradient of scalar `f` at `at` agrees with central differences (h = 1e-2) within 1e-3. */
function expectFiniteDifferences(f: (v: tf.Tensor2D) => tf.Scalar, at: tf.Tensor2D): void {
  const analytic = tf.grad(f)(at).dataSync();
  const base = at.dataSync();
  const h = 1e-2;
  for (let i = 0; i < base.length; i++) {
    const plus = Float32Array.from(base);
    const minus = Float32Array.from(base);
    plus[i]! += h;
    minus[i]! -= h;
    const numeric = (f(tf.tensor2d(plus, at.shape)).dataSync()[0]! - f(tf.tensor2d(minus, at.shape)).dataSync()[0]!) / (2 * h);
    expect(Math.abs(analytic[i]! - numeric)).toBeLessThan(1e-3);
  }
}

describe('shared loss math', () => {
  it('matches hand-computed cross-entropy and KL at temperature T', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.property(logitsArb, logitsArb, fc.double({ min: 0.5, max: 30, noNaN: true }), (student, teacherRaw, t) => {
          const rows = Math.min(student.length, teacherRaw.length);
          const s = student.slice(0, rows);
          const teacher = teacherRaw.slice(0, rows);
          const labels = s.map((_, i) => i % 3);
          const p = teacher.map((z) => softmaxJs(z, t));
          let ce = 0;
          let kl = 0;
          let softCe = 0;
          for (let i = 0; i < rows; i++) {
            const q = softmaxJs(s[i]!, t);
            ce -= Math.log(q[labels[i]!]!);
            for (let k = 0; k < 3; k++) {
              kl += p[i]![k]! * (Math.log(p[i]![k]!) - Math.log(q[k]!));
              softCe -= p[i]![k]! * Math.log(q[k]!);
            }
          }
          tf.tidy(() => {
            const z = tf.tensor2d(s);
            const y = tf.tensor1d(labels, 'int32');
            const target = softmaxAt(tf.tensor2d(teacher), t);
            expect(crossEntropy(z, y, t).dataSync()[0]).toBeCloseTo(ce / rows, 4);
            expect(klDivergence({ target, logits: z, temperature: t }).dataSync()[0]).toBeCloseTo(kl / rows, 4);
            expect(softCrossEntropy({ target, logits: z, temperature: t }).dataSync()[0]).toBeCloseTo(softCe / rows, 4);
          });
        }),
        { numRuns: 30 },
      ),
    );
  });

  it('has gradients that agree with central finite differences', () => {
    tf.tidy(() => {
      const z = tf.tensor2d([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]]);
      const target = softmaxAt(tf.tensor2d([[1, 0, -1], [0, 2, 1]]), 4);
      expectFiniteDifferences((v) => klDivergence({ target, logits: v, temperature: 4 }), z);
    });
  });

  it('is differentiable in the target too (KL(f(x) ‖ f(x′)) with respect to both), against finite differences', () => {
    tf.tidy(() => {
      const a = tf.tensor2d([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]]);
      const b = tf.tensor2d([[1, 0, -1], [0, 2, 1]]);
      expectFiniteDifferences((u) => klDivergence({ target: softmaxAt(u, 1), logits: b, temperature: 1 }), a);
      // A one-hot target still gives 0·log 0 = 0, not NaN.
      expect(klDivergence({ target: tf.tensor2d([[1, 0, 0]]), logits: tf.tensor2d([[5, 0, 0]]) }).dataSync()[0]).toBeCloseTo(-Math.log(Math.exp(5) / (Math.exp(5) + 2)), 5);
    });
  });
});
