import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { TOKENS, createPlugin, type LossContext } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { infoNce, register } from './index.js';
import { finiteDifferences, mean } from '../../ard/src/__fixtures__/reference.js';

const anchors = [
  [1.0, 0.5],
  [-0.3, 2.0],
  [0.7, -1.1],
];
const positives = [
  [0.9, 0.1],
  [0.2, 1.5],
  [-0.4, -0.8],
];

function unit(row: readonly number[]): number[] {
  const n = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
  return row.map((v) => v / n);
}

/** mean_i −log softmax_j(â_i·b̂_j / τ)[i] (and the column direction when symmetric), by loops. */
function expectedInfoNce(a: number[][], b: number[][], tau: number, symmetric = false): number {
  const sim = a.map((ai) => b.map((bj) => unit(ai).reduce((s, v, k) => s + v * unit(bj)[k]!, 0) / tau));
  const rowLoss = (m: number[][]) =>
    mean(m.map((row, i) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[i]!));
  const rows = rowLoss(sim);
  if (!symmetric) return rows;
  const transposed = sim.map((_, i) => sim.map((row) => row[i]!));
  return (rows + rowLoss(transposed)) / 2;
}

describe('info-nce loss', () => {
  it('matches the hand-computed InfoNCE for several temperatures, one-way and symmetric', async () => {
    await expectNoLeaks(() => {
      for (const tau of [0.1, 0.5, 1]) {
        for (const symmetric of [false, true]) {
          const value = tf.tidy(() => infoNce(tf.tensor2d(anchors), tf.tensor2d(positives), tau, symmetric).dataSync()[0]!);
          expect(value).toBeCloseTo(expectedInfoNce(anchors, positives, tau, symmetric), 4);
        }
      }
    });
  });

  it('is scale-invariant (features are L2-normalised) and small when positives align', () => {
    const scaled = tf.tidy(() => infoNce(tf.mul(tf.tensor2d(anchors), 7) as tf.Tensor2D, tf.tensor2d(positives), 0.1).dataSync()[0]!);
    expect(scaled).toBeCloseTo(expectedInfoNce(anchors, positives, 0.1), 4);
    const orthogonal = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const aligned = tf.tidy(() => infoNce(tf.tensor2d(orthogonal), tf.tensor2d(orthogonal), 0.1).dataSync()[0]!);
    expect(aligned).toBeLessThan(1e-3);
  });

  it('has gradients w.r.t. anchors and positives that match central finite differences', async () => {
    const tau = 0.5;
    const at = (a: number[], b: number[]) =>
      tf.tidy(() => infoNce(tf.tensor2d(a, [3, 2]), tf.tensor2d(b, [3, 2]), tau).dataSync()[0]!);
    await expectNoLeaks(() => {
      const [gradA, gradB] = tf.tidy(() =>
        tf
          .grads((a: tf.Tensor, b: tf.Tensor) => infoNce(a as tf.Tensor2D, b as tf.Tensor2D, tau))([tf.tensor2d(anchors), tf.tensor2d(positives)])
          .map((g) => Array.from(g.dataSync())),
      );
      const numericA = finiteDifferences((a) => at(a, positives.flat()), anchors.flat(), 1e-3);
      const numericB = finiteDifferences((b) => at(anchors.flat(), b), positives.flat(), 1e-3);
      gradA!.forEach((g, i) => expect(g).toBeCloseTo(numericA[i]!, 2));
      gradB!.forEach((g, i) => expect(g).toBeCloseTo(numericB[i]!, 2));
    });
  });

  it('is bounded below by 0 and equals log(batch) for identical rows (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -3, max: 3, noNaN: true }), { minLength: 8, maxLength: 8 }), (values) => {
        const [value, degenerate] = tf.tidy(() => {
          const a = tf.add(tf.tensor2d(values, [4, 2]), 0.01) as tf.Tensor2D;
          const same = tf.tile(tf.tensor2d([[1, 2]]), [4, 1]) as tf.Tensor2D;
          return [infoNce(a, a, 0.2).dataSync()[0]!, infoNce(same, same, 0.2).dataSync()[0]!];
        });
        expect(value).toBeGreaterThanOrEqual(0);
        expect(degenerate).toBeCloseTo(Math.log(4), 4);
      }),
      { numRuns: 25, seed: 7 },
    );
  });

  it('as a plugin reads student (x′) and teacher features and rejects mismatched sizes', () => {
    const container = rootContainer.createChildContainer();
    register(container);
    const loss = createPlugin(container, TOKENS.Loss, 'info-nce', { temperature: 0.5 });
    tf.tidy(() => {
      const ctx = (teacherFeatures: tf.Tensor2D): LossContext => ({
        x: tf.zeros([3, 2]),
        labels: tf.tensor1d([0, 1, 2], 'int32'),
        studentAdv: { logits: tf.zeros([3, 2]), features: tf.tensor2d(anchors) },
        teacher: { logits: tf.zeros([3, 2]), features: teacherFeatures },
        temperature: 1,
        epoch: 0,
        step: 0,
      });
      expect(loss.compute(ctx(tf.tensor2d(positives))).dataSync()[0]).toBeCloseTo(expectedInfoNce(anchors, positives, 0.5), 4);
      expect(() => loss.compute(ctx(tf.zeros([3, 5])))).toThrow(/info-nce\.features/);
    });
    expect(() => createPlugin(container, TOKENS.Loss, 'info-nce', { temperature: 0 })).toThrow(/^info-nce\.temperature/);
  });
});
