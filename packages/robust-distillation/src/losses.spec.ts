/**
 * Each method's loss on one fixed batch against a hand computation written here in plain
 * numbers (no tf, no helper of the method). The models are linear (logits = W·x, no bias) so the
 * one-step inner maximisation is computable by hand too: with no random start and one step of
 * size ε, x′ = x + ε·sign(∇ₓ objective), and every input stays inside [0, 1]. A wrong direction
 * of the KL, a missing τ², a wrong reduction (batchmean vs ÷C), a trust weight on the wrong term,
 * or a walk that ignores the teacher each changes the number.
 */
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ArrayDataset, LayersStudent, Rng, TOKENS, asTeacher, createPlugin, setLearningRate, type TrainingMethod } from '@tempered/core';
import { register as registerAttacks } from '@tempered/attacks';
import { register as registerBaselines } from '@tempered/baselines';
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
const V: Mat = [
  [0.8, 0.9, -1.1, 0.4],
  [-1.3, 0.2, 0.7, 1.0],
  [0.6, -0.9, 0.5, -0.2],
]; // teacher
const EPSILON = 0.1;
const C = 3;

const logits = (m: Mat, x: Vec): Vec => m.map((row) => row.reduce((s, w, j) => s + w * x[j]!, 0));
const softmax = (z: Vec, t = 1): Vec => {
  const m = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const kl = (p: Vec, q: Vec): number => p.reduce((s, pk, k) => s + pk * Math.log(pk / q[k]!), 0);
const mean = (v: Vec): number => v.reduce((a, b) => a + b, 0) / v.length;
/** mᵀ·g: the input gradient of a function of the logits m·x whose logit gradient is g. */
const back = (m: Mat, g: Vec): Vec => m[0]!.map((_, j) => m.reduce((s, row, k) => s + row[j]! * g[k]!, 0));
const step = (x: Vec, gradient: Vec): Vec => x.map((v, j) => v + EPSILON * Math.sign(gradient[j]!));
const ce = (z: Vec, y: number): number => -Math.log(softmax(z)[y]!);

// MTARD: the teacher above (V) is the robust one; this is the clean one.
const CLEAN: Mat = [
  [2.1, -0.3, 0.2, -0.6],
  [-0.5, 0.4, -1.2, 1.7],
  [0.1, 1.6, 0.9, -0.8],
];
const B = X.length;
const MTARD_LEARNING_RATE = 2;
const ETA = 0.3;
const INITIAL_CLEAN = 0.2;

/** The authors' step by hand: x′, both KLs (÷C), the weight update, the loss, then SGD on W. */
function handStep(w: Mat, cleanWeight: number, initial: { robust: number; clean: number } | undefined, rateScale: number) {
  const rows = X.map((x, i) => {
    const q = softmax(logits(w, x));
    const oneHot = [0, 1, 2].map((k) => (k === Y[i] ? 1 : 0));
    const gradient = back(w, q.map((qk, k) => qk - oneHot[k]!)); // ∂CE/∂z = q − onehot(y)
    const xAdv = step(x, gradient);
    const pRobust = softmax(logits(V, xAdv));
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
  const lr = MTARD_LEARNING_RATE * rateScale;
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

/** One training step's loss on the fixed batch; `clean` gives a second teacher: roles robust (V) and clean. */
async function methodLoss(method: string, params: Record<string, unknown>, clean?: Mat): Promise<number> {
  const container = rootContainer.createChildContainer();
  registerAttacks(container);
  register(container);
  registerBaselines(container); // MART, the adversarial-training baseline these are compared with
  const student = linear(`${method}-student`, W);
  const teacherModel = linear(`${method}-teacher`, V);
  const teacher = asTeacher(teacherModel);
  const cleanModel = clean ? linear(`${method}-clean`, clean) : undefined;
  const train = new ArrayDataset('fixed', Float32Array.from(X.flat()), Int32Array.from(Y), [4], C);
  const baseline = tf.memory().numTensors;
  const plugin = createPlugin(container, TOKENS.Method, method, { epsilon: EPSILON, stepSize: EPSILON, steps: 1, warmupEpochs: 0, ...params }) as TrainingMethod;
  const teachers = cleanModel ? { teachers: { robust: teacher, clean: asTeacher(cleanModel) } } : {};
  await plugin.setup({ student, teacher: plugin.teacher === 'none' ? undefined : teacher, ...teachers, createModel: () => student, train, batchSize: 3, seed: 1, container });
  const { x, labels } = train.batch([0, 1, 2]);
  const { loss } = await plugin.phases()[0]!.trainStep({ x, labels, indices: Int32Array.from([0, 1, 2]) }, { phase: 'student', epoch: 0, batch: 0, step: 0, rng: new Rng(1) });
  tf.dispose([x, labels]);
  plugin.dispose(); // frees the optimiser and its slots
  expect(tf.memory().numTensors).toBe(baseline);
  student.dispose();
  teacherModel.dispose();
  cleanModel?.dispose();
  return loss;
}

describe('robust-distillation losses on a fixed batch, against hand computations', () => {
  it('rslad: 5/6·KL(T(x) ‖ S(x′)) + 1/6·KL(T(x) ‖ S(x)), divided by C, x′ ascending KL(T(x) ‖ S(·))', async () => {
    const terms = X.map((x) => {
      const p = softmax(logits(V, x));
      const q = softmax(logits(W, x));
      const xAdv = step(x, back(W, q.map((qk, k) => qk - p[k]!))); // ∂KL(p ‖ softmax(z))/∂z = q − p
      return { adversarial: kl(p, softmax(logits(W, xAdv))), natural: kl(p, q) };
    });
    const batchmean = (5 / 6) * mean(terms.map((t) => t.adversarial)) + (1 / 6) * mean(terms.map((t) => t.natural));
    expect(await methodLoss('rslad', { start: 'none' })).toBeCloseTo(batchmean / C, 5);
    expect(await methodLoss('rslad', { start: 'none', klReduction: 'batchmean' })).toBeCloseTo(batchmean, 5);
  });

  it('adaad: α·KL(T(x′) ‖ S(x′)) + (1 − α)·KL(T(x) ‖ S(x)), divided by C, x′ ascending KL(T(·) ‖ S(·)) through both models', async () => {
    const alpha = 0.7;
    const terms = X.map((x) => {
      const p = softmax(logits(V, x));
      const q = softmax(logits(W, x));
      const divergence = kl(p, q);
      // ∂KL/∂(teacher logits)_k = p_k·(log p_k − log q_k − KL); ∂KL/∂(student logits)_k = q_k − p_k.
      const gradient = back(V, p.map((pk, k) => pk * (Math.log(pk / q[k]!) - divergence))).map((g, j) => g + back(W, q.map((qk, k) => qk - p[k]!))[j]!);
      const xAdv = step(x, gradient);
      return { adversarial: kl(softmax(logits(V, xAdv)), softmax(logits(W, xAdv))), natural: divergence };
    });
    const want = (alpha * mean(terms.map((t) => t.adversarial)) + (1 - alpha) * mean(terms.map((t) => t.natural))) / C;
    expect(await methodLoss('adaad', { start: 'none', alpha })).toBeCloseTo(want, 5);
  });

  it("iad: α·τ²·KL(T(x)/τ ‖ S(x′)/τ) + α·mean((1 − p_T(x′)_y^β)·KL(S(x) ‖ S(x′))) + (1 − α)·CE(S(x), y), x′ from PGD on CE", async () => {
    const [alpha, tau, beta] = [0.8, 2, 0.5];
    const terms = X.map((x, i) => {
      const q = softmax(logits(W, x));
      const oneHot = [0, 1, 2].map((k) => (k === Y[i] ? 1 : 0));
      const xAdv = step(x, back(W, q.map((qk, k) => qk - oneHot[k]!))); // ∂CE/∂z = q − onehot(y)
      const zAdv = logits(W, xAdv);
      const trust = softmax(logits(V, xAdv))[Y[i]!]! ** beta;
      return {
        teacher: tau * tau * kl(softmax(logits(V, x), tau), softmax(zAdv, tau)),
        introspection: (1 - trust) * kl(q, softmax(zAdv)),
        ce: ce(logits(W, x), Y[i]!),
      };
    });
    const want = alpha * mean(terms.map((t) => t.teacher)) + alpha * mean(terms.map((t) => t.introspection)) + (1 - alpha) * mean(terms.map((t) => t.ce));
    const params = { alpha, temperature: tau, beta, introspectionEpoch: 0, randomStart: false };
    expect(await methodLoss('iad', params)).toBeCloseTo(want, 5);
    // Before the introspection epoch the loss is ARD's alone.
    const ard = alpha * mean(terms.map((t) => t.teacher)) + (1 - alpha) * mean(terms.map((t) => t.ce));
    expect(await methodLoss('iad', { ...params, introspectionEpoch: 1 })).toBeCloseTo(ard, 5);
  });

  it("iad-ii: (1 − α₁ − α₂)·CE(S(x′), y) + α₁·τ²·mean(w·KL(T_r(x′)/τ ‖ S(x′)/τ) + (1 − w)·KL(S(x) ‖ S(x′))) + α₂·τ²·KL(T_c(x′)/τ ‖ S(x′)/τ), w = p_{T_r}(x′)_y^β", async () => {
    const [alpha1, alpha2, tau, beta] = [0.5, 0.3, 2, 0.5];
    const terms = X.map((x, i) => {
      const q = softmax(logits(W, x));
      const oneHot = [0, 1, 2].map((k) => (k === Y[i] ? 1 : 0));
      const xAdv = step(x, back(W, q.map((qk, k) => qk - oneHot[k]!))); // ∂CE/∂z = q − onehot(y)
      const zAdv = logits(W, xAdv);
      return {
        trust: softmax(logits(V, xAdv))[Y[i]!]! ** beta,
        robust: kl(softmax(logits(V, xAdv), tau), softmax(zAdv, tau)),
        introspection: kl(q, softmax(zAdv)),
        clean: kl(softmax(logits(CLEAN, xAdv), tau), softmax(zAdv, tau)),
        ce: ce(zAdv, Y[i]!),
      };
    });
    const loss = (weighted: boolean) =>
      (1 - alpha1 - alpha2) * mean(terms.map((t) => t.ce)) +
      alpha1 * tau * tau * mean(terms.map((t) => (weighted ? t.trust * t.robust + (1 - t.trust) * t.introspection : t.robust))) +
      alpha2 * tau * tau * mean(terms.map((t) => t.clean));
    const params = { alpha1, alpha2, temperature: tau, beta, introspectionEpoch: 0, randomStart: false };
    expect(await methodLoss('iad-ii', params, CLEAN)).toBeCloseTo(loss(true), 5);
    // Before the introspection epoch both teachers count fully and there is no introspection.
    expect(await methodLoss('iad-ii', { ...params, introspectionEpoch: 1 }, CLEAN)).toBeCloseTo(loss(false), 5);
  });

  it('mart: CE(S(x′), y) − log(1.0001 − max_{k≠y} p(x′)_k) + λ·mean(KL(S(x) ‖ S(x′))·(1 − p(x)_y)), x′ from PGD on CE', async () => {
    const lambda = 6;
    const terms = X.map((x, i) => {
      const q = softmax(logits(W, x));
      const oneHot = [0, 1, 2].map((k) => (k === Y[i] ? 1 : 0));
      const zAdv = logits(W, step(x, back(W, q.map((qk, k) => qk - oneHot[k]!))));
      const pAdv = softmax(zAdv);
      const strongestWrong = Math.max(...pAdv.filter((_, k) => k !== Y[i]));
      return { boosted: ce(zAdv, Y[i]!) - Math.log(1.0001 - strongestWrong), weighted: kl(q, pAdv) * (1 - q[Y[i]!]!) };
    });
    const want = mean(terms.map((t) => t.boosted)) + lambda * mean(terms.map((t) => t.weighted));
    expect(await methodLoss('mart', { start: 'none', lambda })).toBeCloseTo(want, 4);
  });
});

const MTARD_PARAMS = {
  epsilon: EPSILON,
  stepSize: EPSILON,
  steps: 1,
  start: 'none',
  warmupEpochs: 0,
  weightLearningRate: ETA,
  initialCleanWeight: INITIAL_CLEAN,
  optimizer: { name: 'sgd', learningRate: MTARD_LEARNING_RATE },
};

/**
 * MTARD over three consecutive steps (plain SGD, so the student's weights between them are
 * computable here too): a KL on the wrong inputs or teacher, a missing ÷C, a weight update after
 * the loss instead of before, L₀ re-measured each step, a weight rate that ignores the
 * learning-rate decay, or a checkpoint that loses the weights each changes a number.
 */
describe('mtard on a fixed batch, against a hand computation', () => {
  it('w_r·KL(T_r(x′) ‖ S(x′)) + w_c·KL(T_c(x) ‖ S(x)) ÷ C, x′ ascending CE of the student, weights updated before each loss from L/L₀, η decaying with the learning rate, restored from state', async () => {
    const container = rootContainer.createChildContainer();
    registerAttacks(container);
    register(container);
    const student = linear('mtard-student', W);
    const robust = linear('mtard-robust', V);
    const clean = linear('mtard-clean', CLEAN);
    const train = new ArrayDataset('fixed', Float32Array.from(X.flat()), Int32Array.from(Y), [4], C);
    const baseline = tf.memory().numTensors;
    const method = createPlugin(container, TOKENS.Method, 'mtard', MTARD_PARAMS) as TrainingMethod;
    expect(method.teacherRoles && Object.keys(method.teacherRoles)).toEqual(['robust', 'clean']);
    await method.setup({ student, teachers: { robust: asTeacher(robust), clean: asTeacher(clean) }, createModel: () => student, train, batchSize: 3, seed: 1, container });
    const phase = method.phases()[0]!;
    const { x, labels } = train.batch([0, 1, 2]);
    const run = (step: number) => phase.trainStep({ x, labels, indices: Int32Array.from([0, 1, 2]) }, { phase: 'train', epoch: 0, batch: step, step, rng: new Rng(1) });

    let hand = handStep(W, INITIAL_CLEAN, undefined, 1);
    for (const [step, scale] of [[0, 1], [1, 1], [2, 0.1]] as const) {
      if (step > 0) hand = handStep(hand.w, hand.cleanWeight, hand.initial, scale);
      // The third step runs at a tenth of the learning rate (a step schedule's decay): η follows it.
      if (scale !== 1) setLearningRate(phase.optimizer, MTARD_LEARNING_RATE * scale);
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
    const restored = createPlugin(container, TOKENS.Method, 'mtard', MTARD_PARAMS) as TrainingMethod;
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
});
