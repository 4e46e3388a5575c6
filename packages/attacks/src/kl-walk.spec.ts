import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng, klDivergencePerExample, softmaxAt } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { klWalk, objectiveWalk, projectedAscent, ascentStart } from './index.js';
import { randomMlp } from './spec-fixtures.js';

const D = 8;
const student = randomMlp(1, D, 12, 4, 2);
const teacher = randomMlp(2, D, 12, 4, 2);

/** Σ KL(T(v) ‖ S(v)): AdaAD's inner objective, both models at the same input. */
const disagreement = (v: tf.Tensor) => tf.tidy(() => tf.sum(klDivergencePerExample({ target: softmaxAt(teacher.logits(v)), logits: student.logits(v) })).dataSync()[0]!);

describe('klWalk with a model as target (the teacher inside the inner maximisation)', () => {
  it('stays inside the ε-ball and the input bounds for random inputs, budgets and norms', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0.01, max: 0.5, noNaN: true }), fc.constantFrom('linf' as const, 'l2' as const), (seed, epsilon, norm) => {
          const [distance, min, max] = tf.tidy(() => {
            const x = tf.tensor2d(new Rng(seed).uniformArray(5 * D, 0, 1), [5, D]);
            const xAdv = klWalk({ model: student, target: teacher, x, walk: { norm, epsilon, stepSize: epsilon / 3, steps: 4, start: 'uniform' }, rng: new Rng(seed) });
            const delta = tf.sub(xAdv, x);
            const d = norm === 'linf' ? tf.max(tf.abs(delta)) : tf.max(tf.sqrt(tf.sum(tf.square(delta), 1)));
            return [d.dataSync()[0]!, tf.min(xAdv).dataSync()[0]!, tf.max(xAdv).dataSync()[0]!];
          });
          expect(distance).toBeLessThanOrEqual(epsilon + 1e-5);
          expect(min).toBeGreaterThanOrEqual(0);
          expect(max).toBeLessThanOrEqual(1);
        }),
        { numRuns: 25 },
      ),
    );
  });

  it('raises KL(T(x′) ‖ S(x′)) above what a walk towards the fixed T(x) reaches', () => {
    const x = tf.tensor2d(new Rng(7).uniformArray(32 * D, 0.2, 0.8), [32, D]);
    const walk = { norm: 'linf' as const, epsilon: 0.15, stepSize: 0.03, steps: 10, start: 'none' as const };
    const teacherAtX = teacher.logits(x);
    const adaptive = klWalk({ model: student, target: teacher, x, walk, rng: new Rng(1) });
    const fixed = klWalk({ model: student, target: teacherAtX, x, walk, rng: new Rng(1) });
    // The walk that sees the teacher move ascends the objective it is given, beyond the one that does not.
    expect(disagreement(adaptive)).toBeGreaterThan(disagreement(x));
    expect(disagreement(adaptive)).toBeGreaterThan(disagreement(fixed));
    tf.dispose([x, teacherAtX, adaptive, fixed]);
  });
});

describe('objectiveWalk and projectedAscent', () => {
  it('follow the declared objective: ascending −objective is descending it', () => {
    const x = tf.tensor2d(new Rng(3).uniformArray(16 * D, 0.2, 0.8), [16, D]);
    const walk = { norm: 'l2' as const, epsilon: 0.5, stepSize: 0.1, steps: 8, start: 'none' as const };
    const up = objectiveWalk(x, (v) => tf.sum(klDivergencePerExample({ target: softmaxAt(teacher.logits(v)), logits: student.logits(v) })) as tf.Scalar, walk, new Rng(1), student.bounds);
    const down = objectiveWalk(x, (v) => tf.neg(tf.sum(klDivergencePerExample({ target: softmaxAt(teacher.logits(v)), logits: student.logits(v) }))) as tf.Scalar, walk, new Rng(1), student.bounds);
    expect(disagreement(up)).toBeGreaterThan(disagreement(x));
    expect(disagreement(down)).toBeLessThan(disagreement(x));
    tf.dispose([x, up, down]);
  });

  it('takes exactly `steps` gradient calls, in order, and ε = 0 or a no-start walk draws no random number', () => {
    const x = tf.tensor2d(new Rng(4).uniformArray(2 * D, 0, 1), [2, D]);
    const seen: number[] = [];
    const out = projectedAscent(x, x.clone(), { norm: 'linf', epsilon: 0.1, stepSize: 0.05, steps: 3 }, student.bounds, (iterate, i) => {
      seen.push(i);
      return tf.onesLike(iterate);
    });
    expect(seen).toEqual([0, 1, 2]);
    // All-ones gradient: every coordinate moves +0.05, +0.05, then is clipped at ε = 0.1 (and at 1).
    const expected = tf.tidy(() => tf.minimum(tf.add(x, 0.1), 1));
    expect(Array.from(out.dataSync())).toEqual(Array.from(expected.dataSync()));
    const rng = new Rng(9);
    const before = new Rng(9).next();
    ascentStart(x, { norm: 'linf', epsilon: 0 }, 'uniform', rng, student.bounds).dispose();
    ascentStart(x, { norm: 'linf', epsilon: 0.1 }, 'none', rng, student.bounds).dispose();
    expect(rng.next()).toBe(before);
    tf.dispose([x, out, expected]);
  });
});
