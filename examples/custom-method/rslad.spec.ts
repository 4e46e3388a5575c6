import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError, LayersStudent, Rng, TOKENS, Trainer, createPlugin, factoryPlugin, klDivergence, listPlugins, registerPlugin, softmaxAt,
  type LossContext, type Teacher,
} from '@tempered/core';
import { accuracy, expectNoLeaks, mlpStudent, trainTeacher, testContainer } from '@tempered/core/testing';
import { mnistTiny } from '@tempered/datasets/testing';
import { register } from './index.js';

const { train, teacherTrain, heldOut } = mnistTiny(); // real MNIST digits
const container = testContainer(); // fresh, from the public fixtures: no tsyringe import
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
    expect(listPlugins(testContainer(), TOKENS.Method)).not.toContain('rslad');
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

  it('swaps the kl slot for a registered loss by name: the objective on a fixed batch follows it', async () => {
    // KL(S ‖ T), the paper's literal direction, registered as an ordinary loss plugin.
    const reverseKl = (c: LossContext) => tf.tidy(() => klDivergence(softmaxAt(c.student!.logits), c.teacher!.logits));
    registerPlugin(container, TOKENS.Loss, factoryPlugin('student-teacher-kl', () => ({ name: 'student-teacher-kl', compute: reverseKl })));
    const { x, labels } = train.batch(Array.from({ length: 32 }, (_, i) => i));
    const indices = new Int32Array(32);
    const objective = async (params: Record<string, unknown>, expected: (s: tf.Tensor2D, t: tf.Tensor2D) => tf.Scalar) => {
      const student = mlpStudent('rslad-swap', 4); // same seed: same weights for both runs
      // adversarialWeight 0: the objective is the kl slot on clean x alone, computable by hand.
      const method = createPlugin(container, TOKENS.Method, 'rslad', { adversarialWeight: 0, steps: 1, ...params });
      await method.setup({ student, teacher, createModel: () => student, train, batchSize: 32, seed: 1, container });
      const want = tf.tidy(() => expected(student.logits(x), teacher.logits(x)).dataSync()[0]!);
      const step = { phase: 'student', epoch: 0, batch: 0, step: 0, rng: new Rng(1) };
      const { loss } = await method.phases()[0]!.trainStep({ x, labels, indices }, step);
      expect(method.params().klLoss).toBe(params.klLoss ?? 'rslad.kl');
      method.dispose();
      student.dispose();
      expect(loss).toBeCloseTo(want, 5);
      return loss;
    };
    const forward = await objective({}, (s, t) => klDivergence(softmaxAt(t), s));
    const swapped = await objective({ klLoss: 'student-teacher-kl' }, (s, t) => klDivergence(softmaxAt(s), t));
    expect(Math.abs(forward - swapped)).toBeGreaterThan(1e-3);
    x.dispose();
    labels.dispose();
    const method = createPlugin(container, TOKENS.Method, 'rslad', { klLoss: 'no-such-loss' });
    const student = mlpStudent('rslad-bad-loss', 4);
    expect(() => method.setup({ student, teacher, createModel: () => student, train, batchSize: 32, seed: 1, container })).toThrow(/no-such-loss/);
    student.dispose();
  });

  it('is, line for line, the outline in docs/writing-a-method.md', () => {
    const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
    const code = read('./rslad.ts');
    const outline = /```ts\n([\s\S]*?)\n```/.exec(read('../../docs/writing-a-method.md'))![1]!;
    expect(outline).toBe(code.slice(code.indexOf(' */\n') + 4).trimEnd());
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
