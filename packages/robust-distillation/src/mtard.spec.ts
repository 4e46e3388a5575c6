/**
 * MTARD on one fixed batch against a hand computation in plain numbers (no tf, no helper of the
 * method): linear models (logits = W·x, no bias), a one-step inner maximisation with no random
 * start (x′ = x + ε·sign(∇ₓ CE(S(x′), y))), and plain SGD, so three consecutive steps, their
 * losses, the adaptive weights and the student's weights between them are all computable here.
 * A KL on the wrong inputs or teacher, a missing ÷C, a weight update after the loss instead of
 * before, L₀ re-measured each step, a weight rate that ignores the learning-rate decay, or a
 * checkpoint that loses the weights each changes a number.
 */
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ArrayDataset, LayersStudent, Rng, TOKENS, asTeacher, createPlugin, setLearningRate, type TrainingMethod } from '@tempered/core';
import { register as registerAttacks } from '@tempered/attacks';
import { MTARD_STATE_KEY, register } from './index.js';

type Vec = number[];
type Mat = number[][]; // [classes][features]

const X: Mat = [
  [0.4, 0.6, 0.5, 0.35],
  [0.55, 0.45, 0.62, 0.4],
  [0.38, 0.52, 0.47, 0.66],
];
const Y = [0, 2, 1];
const W: Mat = [
  [1.2, -0.7, 0.3, 0.9],
  [-0.4, 1.1, -0.8, 0.2],
  [0.5, 0.3, 1.4, -1.3],
]; // student
const ROBUST: Mat = [
  [0.8, 0.9, -1.1, 0.4],
  [-1.3, 0.2, 0.7, 1.0],
  [0.6, -0.9, 0.5, -0.2],
];
const CLEAN: Mat = [
  [2.1, -0.3, 0.2, -0.6],
  [-0.5, 0.4, -1.2, 1.7],
  [0.1, 1.6, 0.9, -0.8],
];
const EPSILON = 0.1;
const C = 3;
const B = X.length;
const LEARNING_RATE = 2;
const ETA = 0.3;
const INITIAL_CLEAN = 0.2;

const logits = (m: Mat, x: Vec): Vec => m.map((row) => row.reduce((s, w, j) => s + w * x[j]!, 0));
const softmax = (z: Vec): Vec => {
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const kl = (p: Vec, q: Vec): number => p.reduce((s, pk, k) => s + pk * Math.log(pk / q[k]!), 0);
const mean = (v: Vec): number => v.reduce((a, b) => a + b, 0) / v.length;
const back = (m: Mat, g: Vec): Vec => m[0]!.map((_, j) => m.reduce((s, row, k) => s + row[j]! * g[k]!, 0));

/** The authors' step by hand: x′, both KLs (÷C), the weight update, the loss, then SGD on W. */
function handStep(w: Mat, cleanWeight: number, initial: { robust: number; clean: number } | undefined, rateScale: number) {
  const rows = X.map((x, i) => {
    const q = softmax(logits(w, x));
    const oneHot = [0, 1, 2].map((k) => (k === Y[i] ? 1 : 0));
    const gradient = back(w, q.map((qk, k) => qk - oneHot[k]!)); // ∂CE/∂z = q − onehot(y)
    const xAdv = x.map((v, j) => v + EPSILON * Math.sign(gradient[j]!));
    const pRobust = softmax(logits(ROBUST, xAdv));
    const qAdv = softmax(logits(w, xAdv));
    const pClean = softmax(logits(CLEAN, x));
    return { x, xAdv, pRobust, qAdv, pClean, q, robustKl: kl(pRobust, qAdv), cleanKl: kl(pClean, q) };
  });
  const robustKl = mean(rows.map((r) => r.robustKl)) / C;
  const cleanKl = mean(rows.map((r) => r.cleanKl)) / C;
  const start = initial ?? { robust: robustKl, clean: cleanKl };
  const rRobust = robustKl / start.robust;
  const rClean = cleanKl / start.clean;
  const nextClean = cleanWeight - ETA * rateScale * (cleanWeight - rClean / (rRobust + rClean));
  const nextRobust = 1 - nextClean;
  const loss = nextRobust * robustKl + nextClean * cleanKl;
  // ∂loss/∂W[k][j] = Σᵢ (w_r·(q(x′ᵢ) − p_r)_k·x′ᵢⱼ + w_c·(q(xᵢ) − p_c)_k·xᵢⱼ) / (B·C)
  const lr = LEARNING_RATE * rateScale;
  const updated = w.map((row, k) =>
    row.map((value, j) => {
      const gradient = rows.reduce((s, r) => s + nextRobust * (r.qAdv[k]! - r.pRobust[k]!) * r.xAdv[j]! + nextClean * (r.q[k]! - r.pClean[k]!) * r.x[j]!, 0) / (B * C);
      return value - lr * gradient;
    }),
  );
  return { loss, robustKl, cleanKl, cleanWeight: nextClean, initial: start, w: updated };
}

function linear(name: string, m: Mat): LayersStudent {
  const model = tf.sequential({ name });
  model.add(tf.layers.dense({ inputShape: [4], units: 3, useBias: false, name: `${name}-dense` }));
  model.setWeights([tf.tensor2d(m).transpose()]);
  return new LayersStudent(model, { name });
}

const PARAMS = {
  epsilon: EPSILON,
  stepSize: EPSILON,
  steps: 1,
  start: 'none',
  warmupEpochs: 0,
  weightLearningRate: ETA,
  initialCleanWeight: INITIAL_CLEAN,
  optimizer: { name: 'sgd', learningRate: LEARNING_RATE },
};

describe('mtard on a fixed batch, against a hand computation', () => {
  it('w_r·KL(T_r(x′) ‖ S(x′)) + w_c·KL(T_c(x) ‖ S(x)) ÷ C, x′ ascending CE of the student, weights updated before each loss from L/L₀, η decaying with the learning rate, restored from state', async () => {
    const container = rootContainer.createChildContainer();
    registerAttacks(container);
    register(container);
    const student = linear('mtard-student', W);
    const robust = linear('mtard-robust', ROBUST);
    const clean = linear('mtard-clean', CLEAN);
    const train = new ArrayDataset('fixed', Float32Array.from(X.flat()), Int32Array.from(Y), [4], C);
    const baseline = tf.memory().numTensors;
    const method = createPlugin(container, TOKENS.Method, 'mtard', PARAMS) as TrainingMethod;
    expect(method.teacherRoles && Object.keys(method.teacherRoles)).toEqual(['robust', 'clean']);
    await method.setup({ student, teachers: { robust: asTeacher(robust), clean: asTeacher(clean) }, createModel: () => student, train, batchSize: 3, seed: 1, container });
    const phase = method.phases()[0]!;
    const { x, labels } = train.batch([0, 1, 2]);
    const run = (step: number) => phase.trainStep({ x, labels, indices: Int32Array.from([0, 1, 2]) }, { phase: 'train', epoch: 0, batch: step, step, rng: new Rng(1) });

    let hand = handStep(W, INITIAL_CLEAN, undefined, 1);
    for (const [step, scale] of [[0, 1], [1, 1], [2, 0.1]] as const) {
      if (step > 0) hand = handStep(hand.w, hand.cleanWeight, hand.initial, scale);
      // The third step runs at a tenth of the learning rate (a step schedule's decay): η follows it.
      if (scale !== 1) setLearningRate(phase.optimizer, LEARNING_RATE * scale);
      const result = await run(step);
      expect(result.loss, `step ${step}`).toBeCloseTo(hand.loss, 5);
      expect(result.terms!.robustKl!, `step ${step}`).toBeCloseTo(hand.robustKl, 5);
      expect(result.terms!.cleanKl!, `step ${step}`).toBeCloseTo(hand.cleanKl, 5);
      expect(result.terms!.cleanWeight!, `step ${step}`).toBeCloseTo(hand.cleanWeight, 5);
      expect(result.terms!.robustWeight!, `step ${step}`).toBeCloseTo(1 - hand.cleanWeight, 5);
    }
    // The first update moved the weight off its start (both ratios 1: towards 1/2), so a method
    // that ignored the update, or started at 1/2, fails above; here the weights survive a checkpoint.
    const saved = method.state!();
    const restored = createPlugin(container, TOKENS.Method, 'mtard', PARAMS) as TrainingMethod;
    await restored.setup({ student, teachers: { robust: asTeacher(robust), clean: asTeacher(clean) }, createModel: () => student, train, batchSize: 3, seed: 1, container });
    restored.loadState!(saved);
    const next = handStep(hand.w, hand.cleanWeight, hand.initial, 1);
    const resumed = await restored.phases()[0]!.trainStep({ x, labels, indices: Int32Array.from([0, 1, 2]) }, { phase: 'train', epoch: 0, batch: 3, step: 3, rng: new Rng(1) });
    expect(resumed.terms!.cleanWeight!).toBeCloseTo(next.cleanWeight, 5);
    expect(resumed.loss).toBeCloseTo(next.loss, 5);
    const [started, cleanWeight, initialRobust, initialClean] = saved[MTARD_STATE_KEY]!.dataSync();
    expect(started).toBe(1);
    expect(cleanWeight).toBeCloseTo(hand.cleanWeight, 6);
    expect(initialRobust).toBeCloseTo(hand.initial.robust, 6);
    expect(initialClean).toBeCloseTo(hand.initial.clean, 6);
    tf.dispose([x, labels, ...Object.values(saved)]);
    method.dispose();
    restored.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    for (const m of [student, robust, clean]) m.dispose();
  });

  it('refuses a missing role, naming it', async () => {
    const container = rootContainer.createChildContainer();
    registerAttacks(container);
    register(container);
    const student = linear('mtard-refusal', W);
    const robust = linear('mtard-refusal-robust', ROBUST);
    const train = new ArrayDataset('fixed', Float32Array.from(X.flat()), Int32Array.from(Y), [4], C);
    const method = createPlugin(container, TOKENS.Method, 'mtard', {}) as TrainingMethod;
    await expect(async () => method.setup({ student, teacher: asTeacher(robust), teachers: { robust: asTeacher(robust) }, createModel: () => student, train, batchSize: 3, seed: 1, container })).rejects.toThrow(
      /^mtard\.teachers\.clean/,
    );
    method.dispose();
    student.dispose();
    robust.dispose();
  });
});
