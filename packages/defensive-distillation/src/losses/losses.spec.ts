import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@tempered/core';
import type { Loss, LossContext } from '@tempered/core';
import { expectNoLeaks } from '../../../core/src/testing.js';
import { CeAtTemperatureLoss } from './ce-at-temperature.js';
import { SoftCeAtTemperatureLoss } from './soft-ce-at-temperature.js';
import { KdLoss } from './kd.js';

// Plain-JS references, in float64, written from the formulas (not from the implementation).
function logSoftmax(row: number[], temperature: number): number[] {
  const scaled = row.map((v) => v / temperature);
  const max = Math.max(...scaled);
  const logSum = max + Math.log(scaled.reduce((s, v) => s + Math.exp(v - max), 0));
  return scaled.map((v) => v - logSum);
}
const softmax = (row: number[], temperature: number) => logSoftmax(row, temperature).map(Math.exp);
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

function refCe(logits: number[][], labels: number[], temperature: number): number {
  return mean(logits.map((row, i) => -logSoftmax(row, temperature)[labels[i]!]!));
}
function refSoftCe(logits: number[][], targets: number[][], temperature: number): number {
  return mean(logits.map((row, i) => -logSoftmax(row, temperature).reduce((s, lq, k) => s + targets[i]![k]! * lq, 0)));
}
/** Batch-mean KL(p ‖ q) = mean_i Σ_k p_ik (log p_ik − log q_ik). */
function refKl(pLogits: number[][], qLogits: number[][], temperature: number): number {
  return mean(
    pLogits.map((row, i) => {
      const logP = logSoftmax(row, temperature);
      const logQ = logSoftmax(qLogits[i]!, temperature);
      return logP.reduce((s, lp, k) => s + Math.exp(lp) * (lp - logQ[k]!), 0);
    }),
  );
}
function refKd(student: number[][], teacher: number[][], labels: number[], temperature: number, alpha: number): number {
  return alpha * temperature * temperature * refKl(teacher, student, temperature) + (1 - alpha) * refCe(student, labels, 1);
}

const STUDENT = [
  [1.5, -0.3, 0.2, 2.1],
  [-1.0, 0.5, 3.0, 0.0],
  [0.3, 0.3, -2.2, 1.1],
];
const TEACHER = [
  [2.5, -1.0, 0.0, 1.0],
  [0.0, 0.2, 4.0, -0.5],
  [1.0, 0.5, -1.5, 0.2],
];
const LABELS = [3, 2, 0];
const TARGETS = TEACHER.map((row) => softmax(row, 5));

function context(student: tf.Tensor2D, extra: Partial<LossContext> = {}): LossContext {
  return {
    x: extra.x ?? student,
    labels: extra.labels!,
    student: { logits: student },
    temperature: extra.temperature ?? 1,
    epoch: 0,
    step: 0,
    ...extra,
  };
}

/** loss(logits) as a number, for finite differences. */
function lossAt(loss: Loss, logits: number[][], extra: () => Partial<LossContext>): number {
  return tf.tidy(() => loss.compute(context(tf.tensor2d(logits), extra())).dataSync()[0]!);
}

/** Analytic gradient w.r.t. the logits vs. central finite differences (float32, step 1e-2). */
async function checkGradient(loss: Loss, logits: number[][], extra: () => Partial<LossContext>): Promise<void> {
  await expectNoLeaks(() => {
    const analytic = tf.tidy(() => {
      const extraTensors = extra();
      return tf.grad((z: tf.Tensor) => loss.compute(context(z as tf.Tensor2D, extraTensors)))(tf.tensor2d(logits)).arraySync() as number[][];
    });
    const h = 1e-2;
    for (let i = 0; i < logits.length; i++) {
      for (let k = 0; k < logits[i]!.length; k++) {
        const plus = logits.map((row) => [...row]);
        const minus = logits.map((row) => [...row]);
        plus[i]![k]! += h;
        minus[i]![k]! -= h;
        const numeric = (lossAt(loss, plus, extra) - lossAt(loss, minus, extra)) / (2 * h);
        expect(Math.abs(analytic[i]![k]! - numeric)).toBeLessThan(2e-4 + 1e-2 * Math.abs(numeric));
      }
    }
  }, 'gradient check');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ce-at-temperature', () => {
  it.each([1, 2.5, 20])('matches the hand-computed cross-entropy of softmax(z/T) at T = %s', async (temperature) => {
    const loss = new CeAtTemperatureLoss({});
    const value = await expectNoLeaks(() =>
      tf.tidy(() => loss.compute(context(tf.tensor2d(STUDENT), { labels: tf.tensor1d(LABELS, 'int32'), temperature })).dataSync()[0]!),
    );
    expect(value).toBeCloseTo(refCe(STUDENT, LABELS, temperature), 5);
  });

  it('uses its own temperature parameter over the context’s when set', () => {
    const loss = new CeAtTemperatureLoss({ temperature: 4 });
    const value = tf.tidy(() => loss.compute(context(tf.tensor2d(STUDENT), { labels: tf.tensor1d(LABELS, 'int32'), temperature: 1 })).dataSync()[0]!);
    expect(value).toBeCloseTo(refCe(STUDENT, LABELS, 4), 5);
  });

  it.each([1, 20])('has the gradient of central finite differences at T = %s', async (temperature) => {
    await checkGradient(new CeAtTemperatureLoss({}), STUDENT, () => ({ labels: tf.tensor1d(LABELS, 'int32'), temperature }));
  });

  it('throws a ConfigError without student logits', () => {
    const loss = new CeAtTemperatureLoss({});
    tf.tidy(() => {
      expect(() => loss.compute({ x: tf.zeros([1]), labels: tf.tensor1d([0], 'int32'), temperature: 1, epoch: 0, step: 0 })).toThrow(ConfigError);
    });
  });
});

describe('soft-ce-at-temperature', () => {
  it.each([1, 5, 20])('matches −Σ p·log softmax(z/T) at T = %s', async (temperature) => {
    const loss = new SoftCeAtTemperatureLoss({});
    const value = await expectNoLeaks(() =>
      tf.tidy(() =>
        loss
          .compute(context(tf.tensor2d(STUDENT), { labels: tf.tensor1d(LABELS, 'int32'), softTargets: tf.tensor2d(TARGETS), temperature }))
          .dataSync()[0]!,
      ),
    );
    expect(value).toBeCloseTo(refSoftCe(STUDENT, TARGETS, temperature), 5);
  });

  it.each([1, 20])('has the gradient of central finite differences at T = %s', async (temperature) => {
    await checkGradient(new SoftCeAtTemperatureLoss({}), STUDENT, () => ({
      labels: tf.tensor1d(LABELS, 'int32'),
      softTargets: tf.tensor2d(TARGETS),
      temperature,
    }));
  });

  it('equals ce-at-temperature for one-hot targets (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -8, max: 8, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.float({ min: Math.fround(0.5), max: 50, noNaN: true }),
        (row, label, temperature) => {
          const [soft, hard] = tf.tidy(() => {
            const logits = tf.tensor2d([row]);
            const labels = tf.tensor1d([label], 'int32');
            const oneHot = tf.oneHot(labels, 3).toFloat() as tf.Tensor2D;
            return [
              new SoftCeAtTemperatureLoss({}).compute(context(logits, { labels, softTargets: oneHot, temperature })).dataSync()[0]!,
              new CeAtTemperatureLoss({}).compute(context(logits, { labels, temperature })).dataSync()[0]!,
            ];
          });
          expect(soft).toBeCloseTo(hard!, 4);
        },
      ),
      { numRuns: 50, seed: 7 },
    );
  });

  it('throws a ConfigError naming softTargets when they are missing or mis-shaped', () => {
    const loss = new SoftCeAtTemperatureLoss({});
    tf.tidy(() => {
      const logits = tf.tensor2d(STUDENT);
      const labels = tf.tensor1d(LABELS, 'int32');
      expect(() => loss.compute(context(logits, { labels }))).toThrow(/soft-ce-at-temperature\.softTargets/);
      expect(() => loss.compute(context(logits, { labels, softTargets: tf.ones([3, 2]) as tf.Tensor2D }))).toThrow(/soft-ce-at-temperature\.softTargets/);
    });
  });
});

describe('kd', () => {
  it.each([
    [1, 0.9],
    [4, 0.9],
    [4, 0.5],
    [10, 1],
    [4, 0],
  ])('matches α·T²·KL(teacher ‖ student) (batchmean) + (1−α)·CE at T = %s, α = %s', async (temperature, alpha) => {
    const loss = new KdLoss({ alpha });
    const value = await expectNoLeaks(() =>
      tf.tidy(() =>
        loss
          .compute(
            context(tf.tensor2d(STUDENT), {
              labels: tf.tensor1d(LABELS, 'int32'),
              teacher: { logits: tf.tensor2d(TEACHER) },
              temperature,
            }),
          )
          .dataSync()[0]!,
      ),
    );
    const expected = refKd(STUDENT, TEACHER, LABELS, temperature, alpha);
    expect(value).toBeCloseTo(expected, 4);
  });

  it('uses KL(teacher ‖ student), not the reverse, and scales it by T²', () => {
    // Peaked student, flatter teacher: the two KL directions differ clearly here.
    const student = [
      [6, 0, 0, 0],
      [0, 5, 1, 0],
    ];
    const teacher = [
      [1, 0.5, 0, 0],
      [0, 1, 1, 0],
    ];
    const temperature = 2;
    const { kl, loss } = tf.tidy(() => {
      const parts = new KdLoss({ alpha: 1 }).parts(
        context(tf.tensor2d(student), { labels: tf.tensor1d([0, 1], 'int32'), teacher: { logits: tf.tensor2d(teacher) }, temperature }),
      );
      return { kl: parts.kl.dataSync()[0]!, loss: parts.loss.dataSync()[0]! };
    });
    const forward = refKl(teacher, student, temperature);
    const reverse = refKl(student, teacher, temperature);
    // The two directions differ enough on these logits for the check to discriminate.
    expect(Math.abs(forward - reverse)).toBeGreaterThan(0.05);
    expect(kl).toBeCloseTo(forward, 5);
    expect(loss).toBeCloseTo(temperature * temperature * forward, 4);
    // "batchmean": summed over classes, averaged over the batch (not divided by the class count).
    expect(kl).not.toBeCloseTo(forward / student[0]!.length, 3);
  });

  it.each([
    [1, 0.9],
    [4, 0.9],
    [20, 0.5],
  ])('has the gradient of central finite differences at T = %s, α = %s', async (temperature, alpha) => {
    await checkGradient(new KdLoss({ alpha }), STUDENT, () => ({
      labels: tf.tensor1d(LABELS, 'int32'),
      teacher: { logits: tf.tensor2d(TEACHER) },
      temperature,
    }));
  });

  it('is α·T²·0 + (1−α)·CE when the student equals the teacher, and KL ≥ 0 otherwise (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -6, max: 6, noNaN: true }), { minLength: 8, maxLength: 8 }),
        fc.array(fc.float({ min: -6, max: 6, noNaN: true }), { minLength: 8, maxLength: 8 }),
        fc.float({ min: 1, max: 20, noNaN: true }),
        (studentFlat, teacherFlat, temperature) => {
          const { self, selfCe, kl } = tf.tidy(() => {
            const student = tf.tensor2d(studentFlat, [2, 4]);
            const teacher = tf.tensor2d(teacherFlat, [2, 4]);
            const labels = tf.tensor1d([1, 3], 'int32');
            const loss = new KdLoss({ alpha: 0.7 });
            const same = loss.parts(context(student, { labels, teacher: { logits: student }, temperature }));
            const other = loss.parts(context(student, { labels, teacher: { logits: teacher }, temperature }));
            return { self: same.kl.dataSync()[0]!, selfCe: [same.loss.dataSync()[0]!, same.ce.dataSync()[0]!], kl: other.kl.dataSync()[0]! };
          });
          expect(Math.abs(self)).toBeLessThan(1e-5);
          expect(selfCe[0]!).toBeCloseTo(0.3 * selfCe[1]!, 4);
          expect(kl).toBeGreaterThan(-1e-5);
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it('throws a ConfigError naming kd.teacher without teacher logits', () => {
    tf.tidy(() => {
      expect(() => new KdLoss({}).compute(context(tf.tensor2d(STUDENT), { labels: tf.tensor1d(LABELS, 'int32'), temperature: 4 }))).toThrow(
        /kd\.teacher/,
      );
    });
  });
});
