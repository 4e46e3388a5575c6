/**
 * MART by what it promises, on real digits (600 train, 200 test, MLP 784-64-10, 3 epochs of Adam
 * 3e-3): more PGD robust accuracy (ε 0.1, 20 × 0.0125) than the same MLP trained on clean digits.
 * Measured on cpu: MART 0.455 (clean 0.80), standard 0.16; the spec asks for a 0.15 gap.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerAttacks } from '@tempered/attacks';
import { TOKENS, Trainer, createPlugin, listPlugins, type Attack, type Teacher } from '@tempered/core';
import { expectNoLeaks, mlpStudent, trainTeacher, testContainer } from '@tempered/core/testing';
import { loadEmbeddedMnist } from '@tempered/datasets';
import { register, martTerms } from './index.js';

const { train, test: heldOut } = loadEmbeddedMnist({ trainSize: 600, testSize: 200 }); // real MNIST digits
const container = testContainer(); // fresh, from the public fixtures: no tsyringe import
let standard: Teacher; // the same MLP trained on clean digits only

beforeAll(() => {
  registerAttacks(container); // MART's inner attack is 'pgd', resolved by name
  register(container);
  standard = trainTeacher(train, { epochs: 3, hidden: 64, seed: 4 }); // same MLP, data and epochs as MART's student
});
afterAll(() => standard.dispose());

/** Accuracy on the held-out digits under a fresh 20-step PGD at ε. */
async function robustAccuracy(model: Teacher | ReturnType<typeof mlpStudent>, epsilon: number): Promise<number> {
  const attack = createPlugin(container, TOKENS.Attack, 'pgd', { epsilon, steps: 20, stepSize: epsilon / 8 }) as Attack;
  const { x, labels } = heldOut.batch(Int32Array.from({ length: heldOut.size }, (_, i) => i));
  const xAdv = await attack.generate(model, x, labels, { seed: 11 });
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(xAdv), 1), labels), 'int32')).dataSync()[0]!);
  tf.dispose([x, labels, xAdv]);
  return correct / heldOut.size;
}

describe('mart (outside plugin)', () => {
  it('computes the boosted CE and the misclassification-weighted KL of the paper', () => {
    const clean = tf.tensor2d([[2, 0, -1], [0, 1, 3]]);
    const adversarial = tf.tensor2d([[0.5, 1, -1], [1, 0, 0.5]]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const softmax = (row: number[]) => row.map((v) => Math.exp(v) / row.reduce((s, u) => s + Math.exp(u), 0));
    let boosted = 0;
    let weighted = 0;
    const cleanRows = clean.arraySync();
    adversarial.arraySync().forEach((row, i) => {
      const y = [0, 2][i]!;
      const pAdv = softmax(row);
      const pClean = softmax(cleanRows[i]!);
      boosted += -Math.log(pAdv[y]!) - Math.log(1.0001 - Math.max(...pAdv.filter((_, k) => k !== y)));
      const kl = pClean.reduce((s, p, k) => s + p * Math.log(p / pAdv[k]!), 0);
      weighted += kl * (1.0000001 - pClean[y]!);
    });
    const { boostedCe, weightedKl } = martTerms(clean as tf.Tensor2D, adversarial as tf.Tensor2D, labels);
    expect(boostedCe.dataSync()[0]).toBeCloseTo(boosted / 2, 5);
    expect(weightedKl.dataSync()[0]).toBeCloseTo(weighted / 2, 5);
    // The KL is differentiated through the clean side too (the authors' code): compare with a finite difference.
    const gradient = tf.grad((c: tf.Tensor) => martTerms(c as tf.Tensor2D, adversarial as tf.Tensor2D, labels).weightedKl)(clean);
    const h = 1e-3;
    const at = (delta: number) => tf.tidy(() => martTerms(tf.add(clean, tf.tensor2d([[delta, 0, 0], [0, 0, 0]])) as tf.Tensor2D, adversarial as tf.Tensor2D, labels).weightedKl.dataSync()[0]!);
    expect(gradient.arraySync()[0]![0]).toBeCloseTo((at(h) - at(-h)) / (2 * h), 3);
    expect(Math.abs(gradient.arraySync()[0]![0]!)).toBeGreaterThan(1e-3);
    tf.dispose([clean, adversarial, labels, boostedCe, weightedKl, gradient]);
  });

  it('trains a student that resists PGD better than standard training, without leaks', async () => {
    expect(listPlugins(container, TOKENS.Method)).toContain('mart');
    const student = mlpStudent('mart-student', 4, 64);
    const method = createPlugin(container, TOKENS.Method, 'mart', { epsilon: 0.1, stepSize: 0.03, steps: 4, learningRate: 3e-3, epochs: 3 });
    const losses: number[] = [];
    await expectNoLeaks(async () => {
      await method.setup({ student, createModel: () => student, train, batchSize: 50, seed: 2, container });
      await new Trainer().on('epoch:end', (e) => void losses.push(e.loss)).run(method, { model: 'mart', train, batchSize: 50, seed: 2 });
      method.dispose();
    }, 'mart training');
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const martRobust = await robustAccuracy(student, 0.1);
    const standardRobust = await robustAccuracy(standard, 0.1);
    expect(martRobust).toBeGreaterThan(standardRobust + 0.15); // measured: 0.455 vs 0.16 (cpu, seed 2)
    student.dispose();
  });

  it('validates parameters, naming the field', () => {
    expect(() => createPlugin(container, TOKENS.Method, 'mart', { lambda: -1 })).toThrow(/^mart\.lambda/);
    expect(() => createPlugin(container, TOKENS.Method, 'mart', { beta: 6 })).toThrow(/mart/);
  });
});
