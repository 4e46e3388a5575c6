import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng, klDivergencePerExample, softmaxAt } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { klPgd } from '@tempered/attacks';
import { mlpStudent, mnistTiny, trainTeacher } from '../../ard/src/__fixtures__/mnist.js';

describe("crdnd innerLoss 'kl' (klPgd)", () => {
  const { train, teacherTrain } = mnistTiny();
  const teacher = trainTeacher(teacherTrain, { epochs: 5 });
  const student = mlpStudent('kl-pgd-student', 50);
  const { x } = train.batch(Int32Array.from({ length: 40 }, (_, i) => i));
  const teacherLogits = teacher.logits(x);
  afterAll(() => {
    tf.dispose([x, teacherLogits]);
    teacher.dispose();
    student.dispose();
  });
  const settings = { norm: 'linf' as const, epsilon: 0.3, stepSize: 0.05, randomStart: true };

  /** Summed KL(teacher ‖ student(x′)) after `steps` steps from the same seeded start. */
  const klAfter = (steps: number) =>
    tf.tidy(() => {
      const xAdv = klPgd({ model: student, targetLogits: teacherLogits, x, settings: { ...settings, steps }, rng: new Rng(3) });
      return tf.sum(klDivergencePerExample({ target: softmaxAt(teacherLogits), logits: student.logits(xAdv) })).dataSync()[0]!;
    });

  it('stays inside the ε-ball and the input bounds', async () => {
    await expectNoLeaks(() => {
      for (const norm of ['linf', 'l2'] as const) {
        const epsilon = norm === 'linf' ? 0.3 : 2;
        const [distance, min, max] = tf.tidy(() => {
          const xAdv = klPgd({ model: student, targetLogits: teacherLogits, x, settings: { ...settings, norm, epsilon, stepSize: epsilon / 4, steps: 10 }, rng: new Rng(4) });
          const delta = tf.reshape(tf.sub(xAdv, x), [40, -1]);
          const d = norm === 'linf' ? tf.max(tf.abs(delta)) : tf.max(tf.sqrt(tf.sum(tf.square(delta), 1)));
          return [d.dataSync()[0]!, tf.min(xAdv).dataSync()[0]!, tf.max(xAdv).dataSync()[0]!];
        });
        expect(distance).toBeLessThanOrEqual(epsilon + 1e-5);
        expect(distance).toBeGreaterThan(epsilon / 2); // it does move
        expect(min).toBeGreaterThanOrEqual(0);
        expect(max).toBeLessThanOrEqual(1);
      }
    });
  });

  it('increases the KL to the teacher over its steps', () => {
    const values = [0, 1, 2, 4, 8, 16].map(klAfter);
    // Measured (seeded, cpu), summed over 40 digits: 67.0, 96.2, 123.1, 171.0, 222.6, 236.1.
    for (let i = 1; i < values.length; i++) expect(values[i]!, values.join(', ')).toBeGreaterThan(values[i - 1]!);
    expect(values.at(-1)!).toBeGreaterThan(2 * values[0]!);
  });
});
