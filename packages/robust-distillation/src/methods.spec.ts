/**
 * Each method as a plugin: resolved by name, trains a few epochs on real digits with a finite,
 * falling loss and the same tf.memory().numTensors at every epoch end, leaves nothing after
 * dispose(), reports its terms, refuses a run without a teacher when it needs one, and names the
 * field of a bad parameter.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerAttacks } from '@tempered/attacks';
import { TOKENS, Trainer, createPlugin, listPlugins, type TrainingMethod, type Teacher } from '@tempered/core';
import { loadCheckpoint, saveCheckpoint } from '@tempered/core/node';
import { mlpStudent, trainTeacher } from '@tempered/core/testing';
import { mnistTiny } from '@tempered/datasets/testing';
import { register as registerBaselines } from '@tempered/baselines';
import { register } from './index.js';

const { train, teacherTrain } = mnistTiny();
const container = rootContainer.createChildContainer();
let teacher: Teacher;

beforeAll(() => {
  registerAttacks(container);
  register(container);
  registerBaselines(container); // MART, the adversarial-training baseline these are compared with
  teacher = trainTeacher(teacherTrain, { epochs: 5 });
});
afterAll(() => teacher.dispose());

const INNER = { epsilon: 0.1, stepSize: 0.04, steps: 2, learningRate: 3e-3, epochs: 3 };
const CASES: Array<{ method: string; params: Record<string, unknown>; terms: string[]; teacher: boolean; roles?: boolean }> = [
  { method: 'rslad', params: {}, terms: ['adversarialKl', 'naturalKl'], teacher: true },
  { method: 'iad', params: { introspectionEpoch: 1 }, terms: ['introspectionKl', 'teacherKl', 'trust'], teacher: true },
  { method: 'adaad', params: { alpha: 0.9 }, terms: ['adversarialKl', 'naturalKl'], teacher: true },
  { method: 'mart', params: {}, terms: ['boostedCe', 'weightedKl'], teacher: false },
  // Two roles, one model: the plumbing and memory are what this case checks (robustness: test/robustness.int.spec.ts).
  { method: 'mtard', params: {}, terms: ['cleanKl', 'cleanWeight', 'robustKl', 'robustWeight'], teacher: true, roles: true },
  { method: 'iad-ii', params: { introspectionEpoch: 1 }, terms: ['ce', 'cleanKl', 'introspectionKl', 'robustKl', 'trust'], teacher: true, roles: true },
];

describe('@tempered/robust-distillation methods', () => {
  it('registers rslad, iad, iad-ii, adaad, mtard and mart in the run container only', () => {
    expect(listPlugins(container, TOKENS.Method)).toEqual(expect.arrayContaining(['rslad', 'iad', 'iad-ii', 'adaad', 'mtard', 'mart']));
    expect(listPlugins(rootContainer, TOKENS.Method)).not.toContain('rslad');
  });

  for (const c of CASES) {
    it(`${c.method}: trains with a falling loss, constant numTensors per epoch, nothing left after dispose`, async () => {
      const student = mlpStudent(`${c.method}-student`, 3);
      const baseline = tf.memory().numTensors;
      const method = createPlugin(container, TOKENS.Method, c.method, { ...INNER, ...c.params }) as TrainingMethod;
      await method.setup({ student, teacher: c.teacher ? teacher : undefined, ...(c.roles ? { teachers: { robust: teacher, clean: teacher } } : {}), createModel: () => student, train, batchSize: 50, seed: 2, container });
      const records: Array<{ loss: number; numTensors: number; terms: Readonly<Record<string, number>> }> = [];
      await new Trainer()
        .on('epoch:end', (e) => void records.push({ loss: e.loss, numTensors: e.numTensors, terms: e.terms }))
        .run(method, { model: c.method, train, batchSize: 50, seed: 2 });
      expect(records.every((r) => Number.isFinite(r.loss))).toBe(true);
      expect(records.at(-1)!.loss).toBeLessThan(records[0]!.loss);
      expect(new Set(records.map((r) => r.numTensors)).size, records.map((r) => r.numTensors).join(', ')).toBe(1);
      expect(Object.keys(records.at(-1)!.terms).sort()).toEqual(c.terms);
      method.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
      student.dispose();
    });
  }

  it('mtard: a run stopped mid-epoch resumes from its checkpoint to the same weights bit for bit (the teacher weights and L₀ are state)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-mtard-resume-'));
    // The learning rate falls mid-run, so η falls with it: a resume that lost the weights, L₀ or the rate would drift.
    const { learningRate: _flat, ...walk } = INNER;
    const params = { ...walk, epochs: 2, optimizer: { name: 'momentum', learningRate: 0.05, momentum: 0.9 }, schedule: { name: 'piecewise', interval: 'step', milestones: [1.25], gamma: 0.1 } };
    const clean = trainTeacher(teacherTrain, { epochs: 1, seed: 9 });
    const fresh = async () => {
      const method = createPlugin(container, TOKENS.Method, 'mtard', params) as TrainingMethod;
      const student = mlpStudent('mtard-resume', 6);
      await method.setup({ student, teachers: { robust: teacher, clean }, createModel: () => student, train, batchSize: 50, seed: 3, container });
      return method;
    };
    const weightsOf = (method: TrainingMethod) => method.result().getWeights().map((w) => { const values = Array.from(w.dataSync()); w.dispose(); return values; });
    const finish = (method: TrainingMethod) => { method.result().dispose(); method.dispose(); };
    const uninterrupted = await fresh();
    const cleanWeights: number[] = [];
    await new Trainer().on('epoch:end', (e) => void cleanWeights.push(e.terms.cleanWeight!)).run(uninterrupted, { model: 'm', train, batchSize: 50, seed: 3 });
    const expected = weightsOf(uninterrupted);
    finish(uninterrupted);
    // The weights moved off their start (1/2): the adaptive update ran.
    expect(Math.abs(cleanWeights.at(-1)! - 0.5)).toBeGreaterThan(1e-3);
    const killed = await fresh();
    const outcome = await new Trainer().on('batch:end', (e, control) => void (e.epoch === 1 && e.batch === 0 && control.stop('simulated kill'))).run(killed, { model: 'm', train, batchSize: 50, seed: 3 });
    await saveCheckpoint(dir, { model: 'm', seed: 3 }, killed, outcome.position);
    finish(killed);
    const resumed = await fresh();
    const position = await loadCheckpoint(dir, resumed);
    await new Trainer().run(resumed, { model: 'm', train, batchSize: 50, seed: 3, resume: position });
    expect(weightsOf(resumed)).toEqual(expected);
    finish(resumed);
    clean.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a missing teacher and bad parameters, naming the field', async () => {
    const student = mlpStudent('refusals', 4);
    for (const name of ['rslad', 'iad', 'iad-ii', 'adaad', 'mtard']) {
      const method = createPlugin(container, TOKENS.Method, name, {}) as TrainingMethod;
      await expect(async () => method.setup({ student, createModel: () => student, train, batchSize: 50, seed: 1, container })).rejects.toThrow(new RegExp(`^${name}\\.teacher`));
    }
    expect(() => createPlugin(container, TOKENS.Method, 'mtard', { weightLearningRate: 2 })).toThrow(/^mtard\.weightLearningRate/);
    expect(() => createPlugin(container, TOKENS.Method, 'rslad', { adversarialWeight: 2 })).toThrow(/^rslad\.adversarialWeight/);
    expect(() => createPlugin(container, TOKENS.Method, 'adaad', { klReduction: 'sum' })).toThrow(/^adaad\.klReduction/);
    expect(() => createPlugin(container, TOKENS.Method, 'iad', { beta: -1 })).toThrow(/^iad\.beta/);
    // IAD-II weighs CE by 1 − α₁ − α₂: a sum above 1 is refused at setup, naming the field.
    const overweighted = createPlugin(container, TOKENS.Method, 'iad-ii', { alpha1: 0.8, alpha2: 0.4 }) as TrainingMethod;
    await expect(async () => overweighted.setup({ student, teacher, teachers: { robust: teacher, clean: teacher }, createModel: () => student, train, batchSize: 50, seed: 1, container })).rejects.toThrow(/^iad-ii\.alpha2/);
    expect(() => createPlugin(container, TOKENS.Method, 'mart', { start: 'sideways' })).toThrow(/^mart\.start/);
    student.dispose();
  });
});
