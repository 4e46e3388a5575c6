import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOKENS, createPlugin } from '@tempered/core';
import { register } from './index.js';
import { mlpStudent, mnistTiny } from '../../ard/src/__fixtures__/mnist.js';
import { attackContainer, trainMethod, type EpochRecord } from '../../ard/src/__fixtures__/train.js';

// Small budget so a 32-unit MLP can make progress on 200 digits in a few epochs.
const QUICK = { epsilon: 0.1, stepSize: 0.03, steps: 5, epochs: 4, optimizer: { learningRate: 5e-3 } };

let container: DependencyContainer;
const { train } = mnistTiny();

beforeAll(() => {
  container = attackContainer();
  register(container);
});

function expectTrainedWithoutLeaks(epochs: EpochRecord[], count = QUICK.epochs): void {
  expect(epochs).toHaveLength(count);
  for (const e of epochs) expect(Number.isFinite(e.loss)).toBe(true);
  expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss);
  // numTensors at epoch end is constant: nothing accumulates step after step.
  expect(new Set(epochs.map((e) => e.numTensors)).size).toBe(1);
}

describe('pgd-at method', () => {
  it('trains without a teacher: adversarial CE decreases, no leaks', async () => {
    const student = mlpStudent('pgd-at-student', 8);
    const baseline = tf.memory().numTensors;
    const method = createPlugin(container, TOKENS.Method, 'pgd-at', QUICK);
    expect(method.teacher).toBe('none');
    const epochs = await trainMethod(method, { container, train, student });
    expectTrainedWithoutLeaks(epochs);
    expect(Object.keys(epochs[0]!.terms)).toEqual(['adversarialCe']);
    method.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    student.dispose();
  });

  it('mixes in clean cross-entropy with cleanWeight and reports it', async () => {
    const student = mlpStudent('pgd-at-mixed', 9);
    const method = createPlugin(container, TOKENS.Method, 'pgd-at', { ...QUICK, epochs: 1, cleanWeight: 0.5 });
    const epochs = await trainMethod(method, { container, train: train.slice(0, 100), student });
    expect(Object.keys(epochs[0]!.terms).sort()).toEqual(['adversarialCe', 'cleanCe']);
    // Clean inputs are easier than PGD inputs for the same weights.
    expect(epochs[0]!.terms.cleanCe!).toBeLessThan(epochs[0]!.terms.adversarialCe!);
    method.dispose();
    student.dispose();
  });

  it('rejects a negative epsilon and unknown parameters, naming the field', () => {
    expect(() => createPlugin(container, TOKENS.Method, 'pgd-at', { epsilon: -1 })).toThrow(/^pgd-at\.epsilon/);
    expect(() => createPlugin(container, TOKENS.Method, 'pgd-at', { cleanWeight: 2 })).toThrow(/^pgd-at\.cleanWeight/);
    expect(() => createPlugin(container, TOKENS.Method, 'pgd-at', { mixing: 0.5 })).toThrow(/^pgd-at\.mixing/);
  });
});
