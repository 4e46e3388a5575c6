import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError, ModelError, RegistryError, TOKENS, createPlugin, factoryPlugin, listPlugins, registerPlugin, type LossContext, type StepResult, type Teacher,
} from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { register, relationMatching, transitionMatrix } from './index.js';
import { accuracy, linearStudent, mlpStudent, mnistTiny, trainTeacher } from '../../ard/src/__fixtures__/mnist.js';
import { attackContainer, trainMethod, weightValues } from '../../ard/src/__fixtures__/train.js';
import { firstStep } from '../../ard/src/__fixtures__/step.js';

const QUICK = { epsilon: 0.1, stepSize: 0.03, steps: 5, learningRate: 5e-3, projectionDim: 16 };

let container: DependencyContainer;
let teacher: Teacher;
const { train, teacherTrain, heldOut } = mnistTiny(); // real digits: 200 train, 300 teacher, 300 held out
const small = train.slice(0, 100);

beforeAll(async () => {
  container = attackContainer();
  register(container);
  teacher = trainTeacher(teacherTrain);
});

afterAll(() => teacher.dispose());

const STEP_STUDENT = ['crdnd-step', 26] as const;

/** One step on the first 50 digits with a fresh, identically initialised student (loss before the update). */
async function stepOf(params: Record<string, unknown>): Promise<StepResult> {
  const student = mlpStudent(...STEP_STUDENT);
  const method = createPlugin(container, TOKENS.Method, 'crdnd', params);
  const result = await firstStep(method, { container, data: train, student, teacher });
  method.dispose();
  student.dispose();
  return result;
}

/** The imitation loss variants on clean x (τ = 30, M at its 0.9-diagonal start), from scratch. */
function referenceImitation(): { kl: number; reliabilityWeighted: number; compensated: number } {
  const student = mlpStudent(...STEP_STUDENT);
  const { x, labels } = train.batch(Int32Array.from({ length: 50 }, (_, i) => i));
  const out = tf.tidy(() => {
    const tau = 30;
    const t = teacher.logits(x);
    const sLogits = student.logits(x);
    const p = tf.softmax(tf.div(t, tau));
    const q = tf.softmax(tf.div(sLogits, tau));
    const klOf = (qq: tf.Tensor) => tf.mul(tf.sum(tf.mul(p, tf.sub(tf.log(p), tf.log(tf.add(qq, 1e-8)))), 1), tau * tau);
    const klRows = klOf(q);
    const oneHot = tf.oneHot(labels, 10);
    const r = tf.sum(tf.mul(tf.softmax(t), oneHot), 1);
    const ce = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(sLogits)), 1));
    // M = row-softmax(k·I) with diagonal 0.9: off-diagonal 0.1/9.
    const m = tf.add(tf.mul(tf.eye(10), 0.9 - 0.1 / 9), 0.1 / 9);
    return {
      kl: tf.mean(klRows).dataSync()[0]!,
      reliabilityWeighted: tf.mean(tf.add(tf.mul(r, klRows), tf.mul(tf.sub(1, r), ce))).dataSync()[0]!,
      compensated: tf.mean(klOf(tf.matMul(q, m))).dataSync()[0]!,
    };
  });
  tf.dispose([x, labels]);
  student.dispose();
  return out;
}

describe('crdnd method', () => {
  it('registers the method and its three losses by name', () => {
    expect(listPlugins(container, TOKENS.Method)).toContain('crdnd');
    expect(listPlugins(container, TOKENS.Loss)).toEqual(expect.arrayContaining(['crdnd-denoised-kl', 'info-nce', 'relation-matching']));
  });

  it('trains end-to-end on real digits with every component: loss decreases, W learns, no leaks', async () => {
    const student = mlpStudent('crdnd-student', 20);
    const baseline = tf.memory().numTensors;
    const method = createPlugin(container, TOKENS.Method, 'crdnd', { ...QUICK, epochs: 10 });
    const epochs = await trainMethod(method, { container, train, teacher, student });
    expect(epochs).toHaveLength(10);
    expect(epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss);
    expect(new Set(epochs.map((e) => e.numTensors)).size).toBe(1);
    expect(accuracy(method.result(), heldOut)).toBeGreaterThan(0.5);
    // M moved away from its 0.9-diagonal start and stayed row-stochastic.
    const state = method.state!();
    const m = transitionMatrix(state.transitionLogits as tf.Tensor2D);
    const values = Array.from(m.dataSync());
    tf.dispose([m, ...Object.values(state)]);
    const diagonal = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => values[i * 11]!);
    expect(Math.max(...diagonal.map((d) => Math.abs(d - 0.9)))).toBeGreaterThan(1e-4);
    for (let row = 0; row < 10; row++) expect(values.slice(row * 10, row * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    method.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    student.dispose();
  });

  it('each switch changes the loss on a fixed batch by exactly the amount of its term', async () => {
    // ε 0.3 at full budget from the first step; same student init, batch and seed in every run.
    const FULL = { ...QUICK, epsilon: 0.3, stepSize: 0.1, warmupEpochs: 0 };
    const all = await stepOf(FULL);
    expect(Object.keys(all.terms!).sort()).toEqual(['ce', 'denoisedKl', 'infoNce', 'relation']);
    const noContrastive = await stepOf({ ...FULL, contrastive: false });
    expect(all.loss - noContrastive.loss).toBeCloseTo(0.5 * all.terms!.infoNce!, 4);
    const noRelation = await stepOf({ ...FULL, relational: false });
    expect(all.loss - noRelation.loss).toBeCloseTo(1 * all.terms!.relation!, 4);
    const weighted = await stepOf({ ...FULL, contrastiveWeight: 2, relationalWeight: 0.25 });
    expect(weighted.loss - noContrastive.loss + 0.75 * all.terms!.relation!).toBeCloseTo(2 * all.terms!.infoNce!, 4);
    // The switches that change the imitation term, against values computed here from scratch
    // (ε 0, so x′ = x and the student's logits are those of the fresh copy below).
    const CLEAN = { ...QUICK, epsilon: 0, contrastive: false, relational: false };
    const ref = referenceImitation();
    const plain = await stepOf({ ...CLEAN, adaptiveCompensation: false, reliabilityWeighting: false });
    expect(plain.loss).toBeCloseTo(ref.kl, 4);
    const reliability = await stepOf({ ...CLEAN, adaptiveCompensation: false });
    expect(reliability.loss).toBeCloseTo(ref.reliabilityWeighted, 4);
    const compensation = await stepOf({ ...CLEAN, reliabilityWeighting: false });
    expect(compensation.loss).toBeCloseTo(ref.compensated, 4);
    // The variants differ by far more than toBeCloseTo's 5e-5, so each check tells them apart
    // (measured: kl 9.016, reliability-weighted 8.623, compensated 9.007 at τ = 30).
    expect(Math.abs(ref.kl - ref.reliabilityWeighted)).toBeGreaterThan(0.1);
    expect(Math.abs(ref.kl - ref.compensated)).toBeGreaterThan(1e-3);
  });

  it('takes its relation and InfoNCE terms from the loss registry: a config swaps them by name', async () => {
    // A registered replacement: relation matching in MSE mode, ×10, so the swap is unmistakable.
    const mse = (c: LossContext) => tf.tidy(() => tf.mul(relationMatching(c.studentAdv!.features!, c.teacher!.features!, 'mse', 1), 10) as tf.Scalar);
    registerPlugin(container, TOKENS.Loss, factoryPlugin('relation-mse-x10', () => ({ name: 'relation-mse-x10', compute: mse })));
    const only = { ...QUICK, adaptiveCompensation: false, reliabilityWeighting: false, contrastive: false };
    const own = await stepOf(only);
    const viaMse = await stepOf({ ...only, relationMode: 'mse' });
    const swapped = await stepOf({ ...only, relationLoss: 'relation-mse-x10' });
    // Same seed, same x′: the imitation term is unchanged, the relation term is the replacement's.
    expect(swapped.terms.kl).toBeCloseTo(own.terms.kl!, 6);
    expect(swapped.terms.relation).toBeCloseTo(10 * viaMse.terms.relation!, 5);
    expect(swapped.loss - own.loss).toBeCloseTo(swapped.terms.relation! - own.terms.relation!, 5);
    expect(Math.abs(swapped.loss - own.loss)).toBeGreaterThan(1e-3);
    // InfoNCE too: a zero loss in its slot removes exactly its weighted term.
    registerPlugin(container, TOKENS.Loss, factoryPlugin('zero', () => ({ name: 'zero', compute: () => tf.scalar(0) })));
    const contrastive = { ...only, relational: false, contrastive: true };
    const withNce = await stepOf(contrastive);
    const zeroed = await stepOf({ ...contrastive, infoNceLoss: 'zero' });
    expect(zeroed.terms.infoNce).toBe(0);
    expect(withNce.loss - zeroed.loss).toBeCloseTo(0.5 * withNce.terms.infoNce!, 5);
    await expect(stepOf({ ...only, relationLoss: 'no-such-loss' })).rejects.toThrow(RegistryError);
  });

  it("innerLoss 'kl' (via the method) raises the imitation KL above the clean one", async () => {
    const CLEAN = { ...QUICK, contrastive: false, relational: false, adaptiveCompensation: false, reliabilityWeighting: false, warmupEpochs: 0 };
    const clean = await stepOf({ ...CLEAN, epsilon: 0 });
    const kl = await stepOf({ ...CLEAN, innerLoss: 'kl', epsilon: 0.3, stepSize: 0.1, steps: 5 });
    // Measured (seeded, cpu): 9.02 clean, 13.91 after the KL walk; equal if x′ never moved.
    expect(kl.loss).toBeGreaterThan(clean.loss * 1.25);
  });

  it('round-trips W and the projection heads through state() / loadState()', async () => {
    const student = mlpStudent('crdnd-state', 22);
    const trained = createPlugin(container, TOKENS.Method, 'crdnd', { ...QUICK, epochs: 1 });
    await trainMethod(trained, { container, train: small, teacher, student });
    const saved = trained.state();
    expect(Object.keys(saved).sort()).toEqual(['studentProjection', 'teacherProjection', 'transitionLogits']);
    expect(saved.transitionLogits!.shape).toEqual([10, 10]);
    expect(saved.studentProjection!.shape).toEqual([32, 16]);
    expect(saved.teacherProjection!.shape).toEqual([64, 16]);

    const restored = createPlugin(container, TOKENS.Method, 'crdnd', { ...QUICK, epochs: 1 });
    await restored.setup({ student, teacher, createModel: () => student, train: small, batchSize: 50, seed: 99, container });
    const fresh = restored.state();
    expect(Array.from(fresh.transitionLogits!.dataSync())).not.toEqual(Array.from(saved.transitionLogits!.dataSync()));
    restored.loadState(saved);
    const again = restored.state();
    for (const key of Object.keys(saved)) expect(Array.from(again[key]!.dataSync())).toEqual(Array.from(saved[key]!.dataSync()));

    await expectNoLeaks(() => {
      const wrong = { ...saved, transitionLogits: tf.zeros([3, 3]) };
      expect(() => restored.loadState(wrong)).toThrow(ModelError);
      wrong.transitionLogits.dispose();
      expect(() => restored.loadState({ transitionLogits: saved.transitionLogits! })).toThrow(/missing "studentProjection"/);
    });
    for (const t of [...Object.values(saved), ...Object.values(fresh), ...Object.values(again)]) t.dispose();
    trained.dispose();
    restored.dispose();
    student.dispose();
  });

  it('is deterministic: one seed gives the same student weights, W and heads', async () => {
    const run = async () => {
      const student = mlpStudent('crdnd-determinism', 25);
      const method = createPlugin(container, TOKENS.Method, 'crdnd', { ...QUICK, epochs: 1 });
      await trainMethod(method, { container, train: small, teacher, student, seed: 5 });
      const state = method.state();
      const values = [...weightValues(student), ...Object.keys(state).sort().map((k) => Float32Array.from(state[k]!.dataSync()))];
      Object.values(state).forEach((t) => t.dispose());
      method.dispose();
      student.dispose();
      return values;
    };
    const [a, b] = [await run(), await run()];
    expect(a).toHaveLength(7); // 4 student weights + W + 2 heads
    a.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(b[i]!)));
  });

  it('throws a ModelError naming the model when features are needed but absent', async () => {
    const student = linearStudent('flat-student', 23);
    await expectNoLeaks(() => {
      const method = createPlugin(container, TOKENS.Method, 'crdnd', QUICK);
      expect(() => method.setup({ student, teacher, createModel: () => student, train: small, batchSize: 50, seed: 1, container })).toThrow(ModelError);
      expect(() => method.setup({ student, teacher, createModel: () => student, train: small, batchSize: 50, seed: 1, container })).toThrow(/"flat-student"/);
    });
    // Without the feature-based terms the same student trains.
    const method = createPlugin(container, TOKENS.Method, 'crdnd', { ...QUICK, epochs: 1, contrastive: false, relational: false });
    const epochs = await trainMethod(method, { container, train: small, teacher, student });
    expect(Object.keys(epochs[0]!.terms).sort()).toEqual(['ce', 'denoisedKl']);
    method.dispose();
    student.dispose();
  });

  it('validates parameters, naming the field', () => {
    const make = (params: Record<string, unknown>) => createPlugin(container, TOKENS.Method, 'crdnd', params);
    expect(() => make({ epsilon: -0.3 })).toThrow(ConfigError);
    expect(() => make({ epsilon: -0.3 })).toThrow(/^crdnd\.epsilon/);
    expect(() => make({ contrastiveTemperature: 0 })).toThrow(/^crdnd\.contrastiveTemperature/);
    expect(() => make({ innerLoss: 'margin' })).toThrow(/^crdnd\.innerLoss/);
    expect(() => make({ denoise: true })).toThrow(/^crdnd\.denoise: unknown parameter/);
    const student = mlpStudent('crdnd-invalid', 24);
    const lowInit = make({ transitionInit: 0.05 });
    expect(() => lowInit.setup({ student, teacher, createModel: () => student, train: small, batchSize: 50, seed: 1, container })).toThrow(
      /^crdnd\.transitionInit/,
    );
    lowInit.dispose();
    student.dispose();
  });
});
