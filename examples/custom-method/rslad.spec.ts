import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, LayersStudent, TOKENS, Trainer, createPlugin, listPlugins, type Teacher } from '@tempered/core';
import { accuracy, expectNoLeaks, mlpStudent, trainTeacher } from '@tempered/core/testing';
import { mnistTiny } from '@tempered/datasets/testing';
import { register } from './rslad.js';

const { train, teacherTrain, heldOut } = mnistTiny(); // real MNIST digits
const container = rootContainer.createChildContainer();
let teacher: Teacher;

beforeAll(() => {
  register(container); // the outside plugin joins the run's container; no @tempered package changes
  teacher = trainTeacher(teacherTrain);
});
afterAll(() => teacher.dispose());

async function trainRslad(student: LayersStudent, params: Record<string, unknown>, epochs: number) {
  const method = createPlugin(container, TOKENS.Method, 'rslad', { epsilon: 0.1, stepSize: 0.03, steps: 5, learningRate: 5e-3, epochs, ...params });
  await method.setup({ student, teacher, createModel: (name) => mlpStudent(name, 1), train, batchSize: 50, seed: 3, container });
  const records: Array<{ loss: number; numTensors: number; terms: Readonly<Record<string, number>> }> = [];
  await new Trainer()
    .on('epoch:end', (e) => void records.push({ loss: e.loss, numTensors: e.numTensors, terms: e.terms }))
    .run(method, { model: 'rslad', train, batchSize: 50, seed: 3 });
  return { method, records };
}

describe('rslad (outside plugin)', () => {
  it('resolves by name from a child container', () => {
    expect(listPlugins(container, TOKENS.Method)).toContain('rslad');
    expect(listPlugins(rootContainer, TOKENS.Method)).not.toContain('rslad');
  });

  it('trains a few epochs on real digits: finite, decreasing loss, no leaks', async () => {
    const student = mlpStudent('rslad-student', 2);
    const baseline = tf.memory().numTensors;
    const { method, records } = await trainRslad(student, {}, 6);
    expect(records.every((r) => Number.isFinite(r.loss))).toBe(true);
    expect(records.at(-1)!.loss).toBeLessThan(records[0]!.loss);
    expect(new Set(records.map((r) => r.numTensors)).size).toBe(1);
    expect(Object.keys(records[0]!.terms).sort()).toEqual(['adversarialKl', 'naturalKl']);
    // Clean inputs are closer to the teacher than PGD inputs, so the natural KL is smaller.
    expect(records.at(-1)!.terms.naturalKl!).toBeLessThan(records.at(-1)!.terms.adversarialKl!);
    expect(accuracy(method.result(), heldOut)).toBeGreaterThan(0.5);
    method.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    student.dispose();
  });

  it('trains with the literal KL(S ‖ T) direction too, to a different loss value', async () => {
    const runs = [];
    for (const klDirection of ['teacher-student', 'student-teacher']) {
      const student = mlpStudent('rslad-direction', 4);
      const { method, records } = await trainRslad(student, { klDirection }, 1);
      runs.push(records[0]!.loss);
      method.dispose();
      student.dispose();
    }
    expect(runs.every(Number.isFinite)).toBe(true);
    expect(runs[0]).not.toBeCloseTo(runs[1]!, 3);
  });

  it('validates parameters, naming the field', async () => {
    expect(() => createPlugin(container, TOKENS.Method, 'rslad', { epsilon: -0.1 })).toThrow(/^rslad\.epsilon/);
    expect(() => createPlugin(container, TOKENS.Method, 'rslad', { alpha: 0.5 })).toThrow(ConfigError);
    const student = mlpStudent('rslad-no-teacher', 5);
    await expectNoLeaks(() => {
      const method = createPlugin(container, TOKENS.Method, 'rslad', {});
      expect(() => method.setup({ student, createModel: () => student, train, batchSize: 50, seed: 1, container })).toThrow(/rslad\.teacher/);
    });
    student.dispose();
  });
});
