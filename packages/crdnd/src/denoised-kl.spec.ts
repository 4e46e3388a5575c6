import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ConfigError, TOKENS, createPlugin, type LossContext } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { DenoisedKlLoss, register } from './index.js';
import { crossEntropyRow, finiteDifferences, kl, mean, softmax } from '../../ard/src/__fixtures__/reference.js';

const teacher = [
  [2.0, -1.0, 0.5],
  [0.1, 0.3, -0.7],
  [-0.4, 0.2, 1.1],
];
const student = [
  [0.5, 0.2, -0.3],
  [-1.2, 1.5, 0.4],
  [0.3, -0.6, 0.9],
];
const transitionLogits = [
  [2.0, 0.1, -0.3],
  [0.4, 1.5, 0.0],
  [-0.2, 0.3, 1.8],
];
const labels = [0, 2, 2];

function context(t: tf.Tensor2D, s: tf.Tensor2D, temperature: number): LossContext {
  return { x: s, xAdv: s, labels: tf.tensor1d(labels, 'int32'), teacher: { logits: t }, studentAdv: { logits: s }, temperature, epoch: 0, step: 0 };
}

/** mean_i r_i·τ²·KL(p_i ‖ q_i·M) + (1 − r_i)·CE_i by plain loops (M = row-softmax(W) or I). */
function expected(options: { w?: number[][]; reliability: boolean; tau: number; t?: number[][]; s?: number[][] }): number {
  const t = options.t ?? teacher;
  const s = options.s ?? student;
  const m = options.w?.map((row) => softmax(row));
  return mean(
    t.map((row, i) => {
      const p = softmax(row, options.tau);
      const q = softmax(s[i]!, options.tau);
      const mapped = m ? q.map((_, j) => q.reduce((sum, qk, k) => sum + qk * m[k]![j]!, 0)) : q;
      const divergence = options.tau * options.tau * kl(p, mapped.map((v) => v + 1e-8));
      if (!options.reliability) return divergence;
      const r = softmax(row)[labels[i]!]!;
      return r * divergence + (1 - r) * crossEntropyRow(s[i]!, labels[i]!);
    }),
  );
}

function compute(loss: DenoisedKlLoss, tau: number, w?: number[][], t = teacher, s = student): number {
  return tf.tidy(() => {
    loss.bindTransition(w ? tf.tensor2d(w) : undefined);
    const value = loss.compute(context(tf.tensor2d(t), tf.tensor2d(s), tau)).dataSync()[0]!;
    loss.bindTransition(undefined);
    return value;
  });
}

describe('crdnd-denoised-kl loss', () => {
  it('matches r·τ²·KL(p ‖ q·M) + (1 − r)·CE by hand, with and without M and reliability', async () => {
    await expectNoLeaks(() => {
      // float32 KL magnified by τ² = 900: compare to 1e-4 relative.
      const close = (actual: number, wanted: number) => expect(Math.abs(actual - wanted)).toBeLessThan(1e-4 * Math.max(1, Math.abs(wanted)));
      for (const tau of [1, 3, 30]) {
        const weighted = new DenoisedKlLoss({});
        const plain = new DenoisedKlLoss({ reliabilityWeighting: false });
        close(compute(weighted, tau, transitionLogits), expected({ w: transitionLogits, reliability: true, tau }));
        close(compute(weighted, tau), expected({ reliability: true, tau }));
        close(compute(plain, tau, transitionLogits), expected({ w: transitionLogits, reliability: false, tau }));
        close(compute(plain, tau), expected({ reliability: false, tau }));
      }
    });
  });

  it('multiplies probabilities (not logits) by M: a near-identity M gives the plain KL', () => {
    const nearIdentity = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? 40 : 0)));
    const loss = new DenoisedKlLoss({ reliabilityWeighting: false });
    expect(compute(loss, 2, nearIdentity)).toBeCloseTo(compute(loss, 2), 4);
  });

  it('absorbs a systematic teacher mistake: with M swapping classes 0 and 1 a correct student pays less', () => {
    // The teacher always confuses 0 and 1; the student is right.
    const swappedTeacher = [
      [0, 4, 0],
      [4, 0, 0],
    ];
    const rightStudent = [
      [4, 0, 0],
      [0, 4, 0],
    ];
    const swap = [
      [0, 40, 0],
      [40, 0, 0],
      [0, 0, 40],
    ];
    const loss = new DenoisedKlLoss({ reliabilityWeighting: false });
    const withSwap = compute(loss, 1, swap, swappedTeacher, rightStudent);
    const withoutM = compute(loss, 1, undefined, swappedTeacher, rightStudent);
    expect(withSwap).toBeLessThan(0.01);
    expect(withoutM).toBeGreaterThan(3);
  });

  it('moves weight from imitation to CE when the teacher is wrong (r = p_teacher(y))', () => {
    // Teacher confident in class 1 while the label is 0 → r ≈ 0: the loss is ≈ CE, not the KL.
    const loss = new DenoisedKlLoss({});
    const value = tf.tidy(() => {
      const ctx: LossContext = {
        x: tf.zeros([1, 3]),
        labels: tf.tensor1d([0], 'int32'),
        teacher: { logits: tf.tensor2d([[-10, 10, -10]]) },
        studentAdv: { logits: tf.tensor2d([[1, 0, 0]]) },
        temperature: 1,
        epoch: 0,
        step: 0,
      };
      return loss.compute(ctx).dataSync()[0]!;
    });
    expect(value).toBeCloseTo(crossEntropyRow([1, 0, 0], 0), 4);
  });

  it('reports denoisedKl (with M) or kl (without), and ce with reliability weighting', () => {
    tf.tidy(() => {
      const loss = new DenoisedKlLoss({});
      loss.bindTransition(tf.tensor2d(transitionLogits));
      expect(Object.keys(loss.computeTerms(context(tf.tensor2d(teacher), tf.tensor2d(student), 2)).terms).sort()).toEqual(['ce', 'denoisedKl']);
      const plain = new DenoisedKlLoss({ reliabilityWeighting: false });
      expect(Object.keys(plain.computeTerms(context(tf.tensor2d(teacher), tf.tensor2d(student), 2)).terms)).toEqual(['kl']);
    });
  });

  it('has gradients w.r.t. student logits and W that match central finite differences', async () => {
    const tau = 2;
    const loss = new DenoisedKlLoss({});
    const valueAt = (s: number[], w: number[]) => compute(loss, tau, [w.slice(0, 3), w.slice(3, 6), w.slice(6, 9)], teacher, [s.slice(0, 3), s.slice(3, 6), s.slice(6, 9)]);
    await expectNoLeaks(() => {
      const [gradStudent, gradW] = tf.tidy(() => {
        const t = tf.tensor2d(teacher);
        const grads = tf.grads((s: tf.Tensor, w: tf.Tensor) => {
          loss.bindTransition(w as tf.Tensor2D);
          return loss.compute(context(t, s as tf.Tensor2D, tau));
        })([tf.tensor2d(student), tf.tensor2d(transitionLogits)]);
        loss.bindTransition(undefined);
        return grads.map((g) => Array.from(g.dataSync()));
      });
      const numericStudent = finiteDifferences((s) => valueAt(s, transitionLogits.flat()), student.flat());
      const numericW = finiteDifferences((w) => valueAt(student.flat(), w), transitionLogits.flat());
      gradStudent!.forEach((g, i) => expect(g).toBeCloseTo(numericStudent[i]!, 2));
      gradW!.forEach((g, i) => expect(g).toBeCloseTo(numericW[i]!, 2));
      expect(Math.max(...gradW!.map(Math.abs))).toBeGreaterThan(1e-3);
    });
  });

  it('is registered by name, validates parameters and checks the transition shape', () => {
    const container = rootContainer.createChildContainer();
    register(container);
    expect(createPlugin(container, TOKENS.Loss, 'crdnd-denoised-kl').name).toBe('crdnd-denoised-kl');
    expect(() => createPlugin(container, TOKENS.Loss, 'crdnd-denoised-kl', { logEpsilon: -1 })).toThrow(/^crdnd-denoised-kl\.logEpsilon/);
    expect(() => createPlugin(container, TOKENS.Loss, 'crdnd-denoised-kl', { weight: 1 })).toThrow(ConfigError);
    const loss = new DenoisedKlLoss({});
    tf.tidy(() => {
      loss.bindTransition(tf.eye(4) as tf.Tensor2D);
      expect(() => loss.compute(context(tf.tensor2d(teacher), tf.tensor2d(student), 1))).toThrow(/crdnd-denoised-kl\.transition/);
    });
  });
});
