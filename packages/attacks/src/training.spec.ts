import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { LayersStudent, Rng } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { register } from './register.js';
import { ScheduledInnerAttack, trainingModeView, warmupFactor } from './training.js';
import { predict, randomMlp, uniformInputs } from './spec-fixtures.js';

const D = 10;

describe('ε warm-up', () => {
  it('warmupFactor: 0 during clean epochs, then a per-batch linear ramp to 1 over warmupEpochs', () => {
    const n = 4; // batches per epoch
    expect(warmupFactor({ cleanEpochs: 0, warmupEpochs: 0 }, 0, 0, n)).toBe(1);
    expect([0, 1, 2, 3].map((b) => warmupFactor({ cleanEpochs: 0, warmupEpochs: 1 }, 0, b, n))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(warmupFactor({ cleanEpochs: 0, warmupEpochs: 1 }, 5, 0, n)).toBe(1);
    expect([0, 1, 2, 3].map((b) => warmupFactor({ cleanEpochs: 0, warmupEpochs: 2 }, 1, b, n))).toEqual([0.625, 0.75, 0.875, 1]);
    expect([0, 3].map((b) => warmupFactor({ cleanEpochs: 1, warmupEpochs: 1 }, 0, b, n))).toEqual([0, 0]);
    expect(warmupFactor({ cleanEpochs: 1, warmupEpochs: 1 }, 1, 1, n)).toBe(0.5);
    expect(warmupFactor({ cleanEpochs: 2, warmupEpochs: 0 }, 2, 0, n)).toBe(1);
    expect(warmupFactor({ cleanEpochs: 0, warmupEpochs: 0.5 }, 0, 0, n)).toBe(0.5);
  });

  it('ScheduledInnerAttack: x′ = x in clean epochs, inside the scaled ball during the ramp, the full ε after it', async () => {
    const container = rootContainer.createChildContainer();
    register(container);
    const model = randomMlp(3, D, 8, 3);
    const x = uniformInputs(4, 16, D, 0.3, 0.7);
    const y = tf.tensor1d(predict(model, x), 'int32');
    const settings = { innerAttack: 'pgd', norm: 'linf' as const, epsilon: 0.2, stepSize: 0.05, steps: 8, randomStart: true, cleanEpochs: 1, warmupEpochs: 1 };
    const inner = new ScheduledInnerAttack(container, settings, 4);
    const distance = async (epoch: number, batch: number) => {
      const xAdv = await inner.craft(model, x, y, { epoch, batch, rng: new Rng(1) });
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(xAdv, x))).dataSync()[0]!);
      xAdv.dispose();
      return d;
    };
    await expectNoLeaks(async () => {
      expect(await distance(0, 3)).toBe(0);
      const half = await distance(1, 1); // factor 0.5: ε 0.1, step 0.025
      expect(half).toBeLessThanOrEqual(0.1 + 1e-6);
      expect(half).toBeGreaterThan(0.05);
      const full = await distance(2, 0);
      expect(full).toBeLessThanOrEqual(0.2 + 1e-6);
      expect(full).toBeGreaterThan(0.1 + 1e-3);
    });
    expect(inner.schedule.budget({ epoch: 1, batch: 1 })).toEqual({ epsilon: 0.1, stepSize: 0.025, factor: 0.5 });
    tf.dispose([x, y]);
  });

  it('trainingModeView calls the model in training mode whatever the caller asks (dropout is live)', () => {
    const layers = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [D], units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    const model = new LayersStudent(layers, { name: 'dropout' });
    const view = trainingModeView(model);
    const x = uniformInputs(5, 8, D);
    const [viewGap, inferenceGap] = tf.tidy(() => {
      const inference = model.logits(x, { training: false });
      return [
        tf.max(tf.abs(tf.sub(view.logits(x, { training: false }), inference))).dataSync()[0]!,
        tf.max(tf.abs(tf.sub(model.logits(x, { training: false }), inference))).dataSync()[0]!,
      ];
    });
    expect(inferenceGap).toBe(0);
    expect(viewGap).toBeGreaterThan(1e-3);
    expect(view.trainableVariables()).toHaveLength(model.trainableVariables().length);
    x.dispose();
    model.dispose();
  });
});
