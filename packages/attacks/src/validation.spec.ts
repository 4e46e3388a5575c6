import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ModelError } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { CarliniWagnerL2, cw } from './cw.js';
import { Fgsm, fgsm } from './fgsm.js';
import { Pgd, pgd } from './pgd.js';
import { Apgd } from './apgd.js';
import { Square } from './square.js';
import { jsma } from './jsma.js';
import { toModel } from './model-like.js';
import { attackRecords } from './records.js';
import { pgdThroughput } from './bench.js';
import { randomMlp, tinyCnn, uniformInputs } from './spec-fixtures.js';

describe('option validation', () => {
  it('rejects bad parameters, bounds, labels, targets, modes and inputs with typed one-line errors', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(1, 4, 4, 3);
      const x = uniformInputs(2, 2, 4);
      const y = tf.tensor1d([0, 2], 'int32');
      const attack = new Fgsm();
      expect(() => new Fgsm({ epsilon: -0.1 })).toThrow(/fgsm\.epsilon: expected ≥ 0, got -0\.1/);
      expect(() => new Pgd({ steps: 0 })).toThrow(/pgd\.steps: expected ≥ 1/);
      expect(() => new Pgd({ stepSize: -0.1 })).toThrow(/pgd\.stepSize: expected ≥ 0/);
      expect(() => new Apgd({ restarts: 0 })).toThrow(/apgd\.restarts: expected ≥ 1/);
      expect(() => new Square({ pInit: 0 })).toThrow(/square\.pInit: expected > 0/);
      expect(() => new Pgd({ loss: 'hinge' })).toThrow(/pgd\.loss: expected one of ce, margin/);
      expect(() => new CarliniWagnerL2({ learningRate: 0 })).toThrow(/cw\.learningRate: expected > 0/);
      await expect(attack.generate(model, x, y, { bounds: { min: 1, max: 0 } })).rejects.toThrow(/fgsm\.bounds: expected finite min < max/);
      const badLabels = tf.tensor1d([0, 3], 'int32');
      await expect(attack.generate(model, x, badLabels)).rejects.toThrow(/fgsm\.y: expected class indices in \[0, 3\), got 3/);
      await expect(attack.generate(model, x, y, { mode: 'targeted' })).rejects.toThrow(/fgsm\.targets: expected/);
      const badTargets = tf.tensor1d([0, -1], 'int32');
      await expect(attack.generate(model, x, y, { mode: 'targeted', targets: badTargets })).rejects.toThrow(/fgsm\.targets: expected class indices/);
      await expect(attack.generate(model, x, y, { mode: 'sideways' as never })).rejects.toThrow(/fgsm\.mode: expected one of untargeted, targeted/);
      const outside = tf.mul(x, 2);
      await expect(attack.generate(model, outside, y)).rejects.toThrow(/fgsm\.x: expected values within bounds/);
      const wrongShape = tf.zeros([2, 5]);
      await expect(attack.generate(model, wrongShape, y)).rejects.toThrow(/fgsm\.x: expected shape \[batch, 4\]/);
      await expect(attack.generate(model, x, y, { bounds: { min: 0, max: 0 } })).rejects.toBeInstanceOf(ConfigError);
      tf.dispose([x, y, badLabels, badTargets, outside, wrongShape]);
    });
  });

  it('respects custom bounds', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(3, 4, 4, 3);
      const x = uniformInputs(4, 5, 4, -1, 1);
      const y = tf.tensor1d([0, 1, 2, 0, 1], 'int32');
      for (const adversarial of [
        await fgsm(model, x, y, { epsilon: 0.5, bounds: { min: -1, max: 1 } }),
        await pgd(model, x, y, { epsilon: 0.5, steps: 3, bounds: { min: -1, max: 1 } }),
        await cw(model, x, y, { maxIterations: 5, binarySearchSteps: 1, bounds: { min: -1, max: 1 } }),
      ]) {
        const [lo, hi] = tf.tidy(() => [tf.min(adversarial).dataSync()[0]!, tf.max(adversarial).dataSync()[0]!]);
        expect(lo).toBeGreaterThanOrEqual(-1);
        expect(hi).toBeLessThanOrEqual(1);
        adversarial.dispose();
      }
      tf.dispose([x, y]);
    });
  });
});

describe('plain API over model-likes', () => {
  it('accepts a bare tf.LayersModel and a logits function with [0, 1] bounds', async () => {
    const student = tinyCnn(5);
    await expectNoLeaks(async () => {
      const x = tf.tidy(() => tf.mul(tf.ones([2, 6, 6, 1]), 0.5));
      const y = tf.tensor1d([0, 1], 'int32');
      const fromLayers = await fgsm(student.layersModel, x, y, { epsilon: 0.1 });
      const fromFunction = await fgsm((input) => student.layersModel.apply(input) as tf.Tensor2D, x, y, { epsilon: 0.1 });
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(fromLayers, fromFunction))).dataSync()[0])).toBe(0);
      const targets = tf.tensor1d([2, 2], 'int32');
      const fromJsma = await jsma(student.layersModel, x, y, { targets, gamma: 0.1 });
      expect(fromJsma.shape).toEqual([2, 6, 6, 1]);
      const records = attackRecords(student.layersModel, x, fromLayers, y);
      expect(records).toHaveLength(2);
      records.forEach((r) => expect(r.linf).toBeCloseTo(0.1, 5));
      tf.dispose([x, y, targets, fromLayers, fromFunction, fromJsma]);
    });
    student.dispose();
  });

  it('toModel checks what a logits function must declare', () => {
    const fn = (x: tf.Tensor) => x as tf.Tensor2D;
    expect(() => toModel(fn)).toThrow(ModelError);
    expect(() => toModel(fn, { numClasses: 3 })).toThrow(/inputShape/);
    const model = toModel(fn, { numClasses: 3, inputShape: [3] });
    expect(model.bounds).toEqual({ min: 0, max: 1 });
    expect(toModel(model, { bounds: { min: -1, max: 1 } }).bounds).toEqual({ min: -1, max: 1 });
  });

  it('pgdThroughput reports images per second without leaking', async () => {
    const student = tinyCnn(6);
    const result = await expectNoLeaks(() => pgdThroughput(student, { batch: 2, steps: 2 }));
    expect(result.batch).toBe(2);
    expect(result.steps).toBe(2);
    expect(result.imagesPerSecond).toBeGreaterThan(0);
    expect(result.gradientStepsPerSecond).toBeCloseTo(result.imagesPerSecond * 2, 6);
    student.dispose();
  });
});
