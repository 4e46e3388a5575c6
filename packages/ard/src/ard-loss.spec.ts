import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ConfigError, TOKENS, createPlugin, type LossContext } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { ArdLoss, register } from './index.js';
import { crossEntropyRow, finiteDifferences, kl, mean, softmax } from './__fixtures__/reference.js';

const teacher = [
  [2.0, -1.0, 0.5],
  [0.1, 0.3, -0.7],
];
const adversarial = [
  [0.5, 0.2, -0.3],
  [-1.2, 1.5, 0.4],
];
const clean = [
  [1.0, 0.0, -0.5],
  [0.2, 0.9, -0.1],
];
const labels = [0, 1];

function context(t: tf.Tensor2D, sAdv: tf.Tensor2D, s: tf.Tensor2D, y: tf.Tensor1D, temperature: number): LossContext {
  return { x: s, labels: y, teacher: { logits: t }, studentAdv: { logits: sAdv }, student: { logits: s }, temperature, epoch: 0, step: 0 };
}

/** α·T²·mean_i KL(softmax(t_i/T) ‖ softmax(s′_i/T)) + (1 − α)·mean_i CE(s_i, y_i), by plain loops. */
function expectedArd(alpha: number, temperature: number, classDivisor = 1): number {
  const kls = teacher.map((row, i) => kl(softmax(row, temperature), softmax(adversarial[i]!, temperature)));
  const ces = clean.map((row, i) => crossEntropyRow(row, labels[i]!));
  return alpha * temperature * temperature * (mean(kls) / classDivisor) + (1 - alpha) * mean(ces);
}

function computeArd(params: Record<string, unknown>, temperature: number): number {
  const loss = new ArdLoss(params);
  return tf.tidy(() => {
    const ctx = context(tf.tensor2d(teacher), tf.tensor2d(adversarial), tf.tensor2d(clean), tf.tensor1d(labels, 'int32'), temperature);
    return loss.compute(ctx).dataSync()[0]!;
  });
}

describe('ard loss', () => {
  it('matches α·T²·KL(teacher ‖ student′) + (1 − α)·CE by hand, for several T and α', async () => {
    await expectNoLeaks(() => {
      for (const temperature of [1, 4, 30]) {
        for (const alpha of [1, 0.7, 0]) {
          expect(computeArd({ alpha }, temperature)).toBeCloseTo(expectedArd(alpha, temperature), 4);
        }
      }
    });
  });

  it('scales the KL by T² (not T or 1): at T = 30 the value is 900 × the unscaled KL', () => {
    const unscaled = mean(teacher.map((row, i) => kl(softmax(row, 30), softmax(adversarial[i]!, 30))));
    expect(computeArd({}, 30) / unscaled).toBeCloseTo(900, 0);
  });

  it('puts the teacher first in the KL: KL(p_teacher ‖ q_student), not the reverse', () => {
    // A peaked teacher and a flat student make the two directions differ clearly.
    const t = [[4, 0, 0]];
    const s = [[0, 0, 0]];
    const forward = kl(softmax(t[0]!), softmax(s[0]!));
    const reverse = kl(softmax(s[0]!), softmax(t[0]!));
    const value = tf.tidy(() => {
      const y = tf.tensor1d([0], 'int32');
      return new ArdLoss({}).compute(context(tf.tensor2d(t), tf.tensor2d(s), tf.tensor2d(s), y, 1)).dataSync()[0]!;
    });
    expect(value).toBeCloseTo(forward, 5);
    expect(Math.abs(forward - reverse)).toBeGreaterThan(0.3);
  });

  it("'elementwise-mean' is the authors' nn.KLDivLoss() scale: batchmean divided by the class count", () => {
    expect(computeArd({ klReduction: 'elementwise-mean' }, 4)).toBeCloseTo(expectedArd(1, 4, 3), 5);
    expect(computeArd({ klReduction: 'batchmean' }, 4) / computeArd({ klReduction: 'elementwise-mean' }, 4)).toBeCloseTo(3, 4);
  });

  it('reports the unweighted kl and ce terms', () => {
    const loss = new ArdLoss({ alpha: 0.5 });
    tf.tidy(() => {
      const { terms } = loss.computeTerms(
        context(tf.tensor2d(teacher), tf.tensor2d(adversarial), tf.tensor2d(clean), tf.tensor1d(labels, 'int32'), 3),
      );
      expect(Object.keys(terms).sort()).toEqual(['ce', 'kl']);
      expect(terms.kl!.dataSync()[0]).toBeCloseTo(expectedArd(1, 3), 4);
      expect(terms.ce!.dataSync()[0]).toBeCloseTo(expectedArd(0, 3), 4);
    });
  });

  it('has gradients w.r.t. both student logit sets that match central finite differences', async () => {
    const alpha = 0.6;
    const temperature = 3;
    const loss = new ArdLoss({ alpha });
    const valueAt = (adv: number[], cln: number[]) =>
      tf.tidy(() =>
        loss
          .compute(context(tf.tensor2d(teacher), tf.tensor2d(adv, [2, 3]), tf.tensor2d(cln, [2, 3]), tf.tensor1d(labels, 'int32'), temperature))
          .dataSync()[0]!,
      );
    await expectNoLeaks(() => {
      const [gradAdv, gradClean] = tf.tidy(() => {
        const t = tf.tensor2d(teacher);
        const y = tf.tensor1d(labels, 'int32');
        const grads = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
          loss.compute(context(t, a as tf.Tensor2D, c as tf.Tensor2D, y, temperature)),
        )([tf.tensor2d(adversarial), tf.tensor2d(clean)]);
        return grads.map((g) => Array.from(g.dataSync()));
      });
      const numericAdv = finiteDifferences((a) => valueAt(a, clean.flat()), adversarial.flat());
      const numericClean = finiteDifferences((c) => valueAt(adversarial.flat(), c), clean.flat());
      gradAdv!.forEach((g, i) => expect(g).toBeCloseTo(numericAdv[i]!, 2));
      gradClean!.forEach((g, i) => expect(g).toBeCloseTo(numericClean[i]!, 2));
      // T²·KL has gradient T·(q − p) in the student logits: check one entry in closed form too.
      const q = softmax(adversarial[0]!, temperature);
      const p = softmax(teacher[0]!, temperature);
      expect(gradAdv![0]).toBeCloseTo((alpha * temperature * (q[0]! - p[0]!)) / 2, 4);
    });
  });

  it('is non-negative and zero when the student copies the teacher (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -5, max: 5, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.float({ min: -5, max: 5, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.float({ min: Math.fround(0.5), max: 40, noNaN: true }),
        (t, s, temperature) => {
          const loss = new ArdLoss({});
          const [value, self] = tf.tidy(() => {
            const tt = tf.tensor2d(t, [2, 2]);
            const y = tf.tensor1d([0, 1], 'int32');
            const ctx = (adv: tf.Tensor2D) => context(tt, adv, adv, y, temperature);
            return [loss.compute(ctx(tf.tensor2d(s, [2, 2]))).dataSync()[0]!, loss.compute(ctx(tt)).dataSync()[0]!];
          });
          expect(value).toBeGreaterThanOrEqual(-1e-3);
          expect(Math.abs(self)).toBeLessThan(1e-3);
        },
      ),
      { numRuns: 40, seed: 42 },
    );
  });

  it('is registered as loss "ard" and validates its parameters', () => {
    const container = rootContainer.createChildContainer();
    register(container);
    expect(createPlugin(container, TOKENS.Loss, 'ard', { alpha: 0.5 }).name).toBe('ard');
    expect(() => createPlugin(container, TOKENS.Loss, 'ard', { alpha: 1.5 })).toThrow(ConfigError);
    expect(() => createPlugin(container, TOKENS.Loss, 'ard', { alpha: 1.5 })).toThrow(/ard\.alpha/);
    expect(() => createPlugin(container, TOKENS.Loss, 'ard', { beta: 1 })).toThrow(/ard\.beta/);
  });

  it('names the missing input when the context lacks teacher logits', () => {
    const loss = new ArdLoss({});
    tf.tidy(() => {
      const s = tf.tensor2d(clean);
      expect(() => loss.compute({ x: s, labels: tf.tensor1d(labels, 'int32'), studentAdv: { logits: s }, temperature: 1, epoch: 0, step: 0 })).toThrow(/ard\.teacher/);
    });
  });
});
