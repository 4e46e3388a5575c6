/**
 * ALP by what it promises: its loss on a fixed batch equals a hand computation (a linear model,
 * so the one-step PGD is computable by hand too), its pairing slot is swappable by name, and on
 * real digits (600 train, 200 test, MLP 784-64-10, 3 epochs of Adam 3e-3) it keeps clearly more
 * PGD robust accuracy (ε 0.1, 20 × 0.0125) than the same MLP trained on clean digits.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerAttacks } from '@tempered/attacks';
import {
  ArrayDataset, LayersStudent, Rng, TOKENS, Trainer, createPlugin, factoryPlugin, listPlugins, registerPlugin, selectBackend,
  type Attack, type LossContext, type Teacher,
} from '@tempered/core';
import { expectNoLeaks, mlpStudent, trainTeacher } from '@tempered/core/testing';
import { loadEmbeddedMnist } from '@tempered/datasets';
import { register } from './index.js';

const { train, test: heldOut } = loadEmbeddedMnist({ trainSize: 600, testSize: 200 }); // real MNIST digits
const container = rootContainer.createChildContainer();
let standard: Teacher; // the same MLP trained on clean digits only

beforeAll(async () => {
  await selectBackend('wasm'); // the framework's default backend, with its training kernels
  registerAttacks(container); // ALP's inner attack is 'pgd', resolved by name
  register(container); // the outside plugin joins the run's container; no @tempered package changes
  standard = trainTeacher(train, { epochs: 3, hidden: 64, seed: 4 });
});
afterAll(() => standard.dispose());

async function robustAccuracy(model: Teacher | LayersStudent, epsilon: number): Promise<number> {
  const attack = createPlugin(container, TOKENS.Attack, 'pgd', { epsilon, steps: 20, stepSize: epsilon / 8 }) as Attack;
  const { x, labels } = heldOut.batch(Int32Array.from({ length: heldOut.size }, (_, i) => i));
  const xAdv = await attack.generate(model, x, labels, { seed: 11 });
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(xAdv), 1), labels), 'int32')).dataSync()[0]!);
  tf.dispose([x, labels, xAdv]);
  return correct / heldOut.size;
}

// A fixed batch of 3 four-feature inputs, 3 classes, and a linear student (logits = W·x).
const X = [[0.4, 0.6, 0.5, 0.35], [0.55, 0.45, 0.62, 0.4], [0.38, 0.52, 0.47, 0.66]];
const Y = [0, 2, 1];
const W = [[1.2, -0.7, 0.3, 0.9], [-0.4, 1.1, -0.8, 0.2], [0.5, 0.3, 1.4, -1.3]];
const EPSILON = 0.1;

/** The method's loss on the fixed batch (one step of size ε, no random start, no warm-up). */
async function fixedBatchLoss(params: Record<string, unknown>): Promise<number> {
  const model = tf.sequential({ name: 'alp-linear' });
  model.add(tf.layers.dense({ inputShape: [4], units: 3, useBias: false }));
  model.setWeights([tf.tensor2d(W).transpose()]);
  const student = new LayersStudent(model, { name: 'alp-linear' });
  const data = new ArrayDataset('fixed', Float32Array.from(X.flat()), Int32Array.from(Y), [4], 3);
  const method = createPlugin(container, TOKENS.Method, 'alp', { epsilon: EPSILON, stepSize: EPSILON, steps: 1, randomStart: false, warmupEpochs: 0, ...params });
  await method.setup({ student, createModel: () => student, train: data, batchSize: 3, seed: 1, container });
  const { x, labels } = data.batch([0, 1, 2]);
  const { loss } = await method.phases()[0]!.trainStep({ x, labels, indices: Int32Array.from([0, 1, 2]) }, { phase: 'student', epoch: 0, batch: 0, step: 0, rng: new Rng(1) });
  tf.dispose([x, labels]);
  method.dispose();
  student.dispose();
  return loss;
}

describe('alp (outside plugin)', () => {
  it('resolves by name from a child container', () => {
    expect(listPlugins(container, TOKENS.Method)).toContain('alp');
    expect(listPlugins(rootContainer, TOKENS.Method)).not.toContain('alp');
  });

  it('computes ½·CE(x) + ½·CE(x′) + λ·mean (S(x) − S(x′))² on a fixed batch, x′ = x + ε·sign(∇CE)', async () => {
    const lambda = 0.5;
    const logits = (x: number[]) => W.map((row) => row.reduce((s, w, j) => s + w * x[j]!, 0));
    const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((s, u) => s + Math.exp(u), 0));
    let ce = 0;
    let squared = 0;
    X.forEach((x, i) => {
      const z = logits(x);
      const q = softmax(z);
      const dz = q.map((qk, k) => qk - (k === Y[i] ? 1 : 0)); // ∂CE/∂z
      const xAdv = x.map((v, j) => v + EPSILON * Math.sign(W.reduce((s, row, k) => s + row[j]! * dz[k]!, 0)));
      const zAdv = logits(xAdv);
      ce += (-Math.log(q[Y[i]!]!) - Math.log(softmax(zAdv)[Y[i]!]!)) / 2;
      squared += z.reduce((s, v, k) => s + (v - zAdv[k]!) ** 2, 0);
    });
    const want = ce / 3 + lambda * (squared / 9);
    expect(await fixedBatchLoss({ pairingWeight: lambda })).toBeCloseTo(want, 5);
  });

  it('swaps the pairing slot for a registered loss by name', async () => {
    // The L1 distance between the halves' logits, registered as an ordinary loss plugin.
    const l1 = (c: LossContext) => tf.tidy(() => tf.mean(tf.abs(tf.sub(c.student!.logits, c.studentAdv!.logits))) as tf.Scalar);
    registerPlugin(container, TOKENS.Loss, factoryPlugin('logit-l1', () => ({ name: 'logit-l1', compute: l1 })));
    const withoutPairing = await fixedBatchLoss({ pairingWeight: 0 });
    const squared = (await fixedBatchLoss({ pairingWeight: 1 })) - withoutPairing;
    const absolute = (await fixedBatchLoss({ pairingWeight: 1, pairingLoss: 'logit-l1' })) - withoutPairing;
    expect(squared).toBeGreaterThan(0);
    expect(Math.abs(absolute - squared)).toBeGreaterThan(1e-3);
    await expect(fixedBatchLoss({ pairingLoss: 'no-such-loss' })).rejects.toThrow(/no-such-loss/);
  });

  it('trains a student that resists PGD better than standard training, without leaks', async () => {
    const student = mlpStudent('alp-student', 4, 64);
    const method = createPlugin(container, TOKENS.Method, 'alp', { epsilon: 0.1, stepSize: 0.03, steps: 4, learningRate: 3e-3, epochs: 3 });
    const losses: number[] = [];
    await expectNoLeaks(async () => {
      await method.setup({ student, createModel: () => student, train, batchSize: 50, seed: 2, container });
      await new Trainer().on('epoch:end', (e) => void losses.push(e.loss)).run(method, { model: 'alp', train, batchSize: 50, seed: 2 });
      method.dispose();
    }, 'alp training');
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const alpRobust = await robustAccuracy(student, 0.1);
    const standardRobust = await robustAccuracy(standard, 0.1);
    expect(alpRobust, `alp ${alpRobust} vs standard ${standardRobust}`).toBeGreaterThan(standardRobust + 0.15);
    student.dispose();
  });

  it('is, line for line, the outline in docs/writing-a-method.md', () => {
    const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
    const code = read('./alp.ts');
    const outline = /```ts\n([\s\S]*?)\n```/.exec(read('../../docs/writing-a-method.md'))![1]!;
    expect(outline).toBe(code.slice(code.indexOf(' */\n') + 4).trimEnd());
  });

  it('validates parameters, naming the field', () => {
    expect(() => createPlugin(container, TOKENS.Method, 'alp', { pairingWeight: -1 })).toThrow(/^alp\.pairingWeight/);
    expect(() => createPlugin(container, TOKENS.Method, 'alp', { lambda: 6 })).toThrow(/alp/);
  });
});
