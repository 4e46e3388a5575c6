import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { TOKENS, createPlugin } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { register, relationMatching } from './index.js';
import { kl, mean, softmax } from '../../ard/src/__fixtures__/reference.js';

// Different feature sizes: only the [batch, batch] similarity matrices meet.
const studentFeatures = [
  [1.0, 0.2],
  [0.1, 1.0],
  [0.7, 0.7],
];
const teacherFeatures = [
  [1.0, 0.0, 0.3, 0.0],
  [0.0, 1.0, 0.0, 0.5],
  [0.5, 0.5, 0.2, 0.1],
];

function cosine(rows: number[][]): number[][] {
  const unit = rows.map((r) => {
    const n = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    return r.map((v) => v / n);
  });
  return unit.map((a) => unit.map((b) => a.reduce((s, v, k) => s + v * b[k]!, 0)));
}

function expectedKl(tau: number): number {
  const s = cosine(studentFeatures);
  const t = cosine(teacherFeatures);
  return mean(
    t.map((row, i) => {
      const others = (m: number[]) => m.filter((_, j) => j !== i);
      return kl(softmax(others(row), tau), softmax(others(s[i]!), tau));
    }),
  );
}

function expectedMse(): number {
  const s = cosine(studentFeatures).flat();
  const t = cosine(teacherFeatures).flat();
  return mean(s.map((v, i) => (v - t[i]!) ** 2));
}

describe('relation-matching loss', () => {
  it('kl mode matches row-wise KL of softmax(sim/τ) over the other examples, by hand', async () => {
    await expectNoLeaks(() => {
      for (const tau of [0.1, 0.5, 1]) {
        const value = tf.tidy(() => relationMatching(tf.tensor2d(studentFeatures), tf.tensor2d(teacherFeatures), 'kl', tau).dataSync()[0]!);
        expect(value).toBeCloseTo(expectedKl(tau), 4);
      }
    });
  });

  it('mse mode matches the mean squared difference of the cosine-similarity matrices', () => {
    const value = tf.tidy(() => relationMatching(tf.tensor2d(studentFeatures), tf.tensor2d(teacherFeatures), 'mse', 1).dataSync()[0]!);
    expect(value).toBeCloseTo(expectedMse(), 5);
  });

  it('is zero when the student has the teacher’s relations (any feature size), positive otherwise', () => {
    const [same, scaled, differentKl, differentMse] = tf.tidy(() => {
      const t = tf.tensor2d(teacherFeatures);
      const s = tf.tensor2d(studentFeatures);
      return [
        relationMatching(t, t, 'kl', 0.1).dataSync()[0]!,
        relationMatching(tf.mul(t, 3) as tf.Tensor2D, t, 'mse', 1).dataSync()[0]!,
        relationMatching(s, t, 'kl', 0.1).dataSync()[0]!,
        relationMatching(s, t, 'mse', 1).dataSync()[0]!,
      ];
    });
    expect(Math.abs(same)).toBeLessThan(1e-5);
    expect(Math.abs(scaled)).toBeLessThan(1e-6);
    // Different relations: the loss itself (not the hand reference) is clearly positive.
    expect(differentKl).toBeGreaterThan(1e-3);
    expect(differentMse).toBeGreaterThan(1e-2);
  });

  it('has finite, non-zero gradients w.r.t. student features', async () => {
    await expectNoLeaks(() => {
      const grad = tf.tidy(() =>
        Array.from(tf.grad((s: tf.Tensor) => relationMatching(s as tf.Tensor2D, tf.tensor2d(teacherFeatures), 'kl', 0.1))(tf.tensor2d(studentFeatures)).dataSync()),
      );
      expect(grad.every(Number.isFinite)).toBe(true);
      expect(Math.max(...grad.map(Math.abs))).toBeGreaterThan(1e-4);
    });
  });

  it('as a plugin validates its parameters', () => {
    const container = rootContainer.createChildContainer();
    register(container);
    expect(createPlugin(container, TOKENS.Loss, 'relation-matching', { mode: 'mse' }).name).toBe('relation-matching');
    expect(() => createPlugin(container, TOKENS.Loss, 'relation-matching', { mode: 'l1' })).toThrow(/^relation-matching\.mode/);
  });
});
