import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { createOptimizer, crossEntropy, optimizeStep, selectBackend, TOKENS, createPlugin, type ModelArchitecture } from '@tempered/core';
import { register as registerModels } from '@tempered/models';
import { expectNoLeaks } from '../packages/core/src/testing.js';

/**
 * Every model in the zoo trains on the embedded wasm backend with every optimiser: no missing
 * gradient kernel, finite falling loss, no leaked tensors. (The kernels themselves are checked
 * against cpu and finite differences in @tempered/wasm-train.)
 */
const ARCHITECTURES: Array<{ name: string; params: Record<string, unknown>; inputShape: number[] }> = [
  { name: 'papernot-mnist', params: { widthMultiplier: 0.25 }, inputShape: [28, 28, 1] },
  { name: 'papernot-cifar', params: { widthMultiplier: 0.125, dropout: 0.5 }, inputShape: [32, 32, 3] },
  { name: 'resnet-small', params: { depth: 8, widthMultiplier: 0.5 }, inputShape: [32, 32, 3] },
  { name: 'mobilenet-v2-small', params: { widthMultiplier: 0.25, headChannels: 32 }, inputShape: [32, 32, 3] },
  { name: 'mlp', params: { hiddenSizes: '32,16' }, inputShape: [28, 28, 1] },
];
const OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const;

let previous: string;
beforeAll(async () => {
  previous = tf.getBackend();
  const info = await selectBackend('wasm');
  expect(info.source).toMatch(/@tempered\/wasm-train/);
});
afterAll(async () => {
  if (previous) await tf.setBackend(previous);
});

describe('the model zoo on wasm', () => {
  const scope = container.createChildContainer();
  registerModels(scope);
  for (const arch of ARCHITECTURES) {
    it(`${arch.name} trains with ${OPTIMIZERS.join(', ')}`, async () => {
      for (const optimizerName of OPTIMIZERS) {
        await expectNoLeaks(async () => {
          const builder = createPlugin(scope, TOKENS.Model, arch.name, arch.params) as ModelArchitecture;
          const model = builder.build({ name: `${arch.name}-${optimizerName}`, inputShape: arch.inputShape, numClasses: 10, seed: 3 });
          const optimizer = createOptimizer({ name: optimizerName, learningRate: optimizerName === 'adam' ? 1e-3 : 0.05 });
          const x = tf.randomUniform([8, ...arch.inputShape], 0, 1, 'float32', 1);
          const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
          const losses: number[] = [];
          for (let step = 0; step < 4; step++) {
            const r = optimizeStep(optimizer, model.trainableVariables(), () => {
              const logits = model.logits(x, { training: true });
              return { loss: crossEntropy(logits, y), logits, labels: y };
            });
            losses.push(r.loss);
          }
          expect(losses.every(Number.isFinite), `${arch.name}/${optimizerName}: ${losses.join(', ')}`).toBe(true);
          expect(losses.at(-1)!, `${arch.name}/${optimizerName}: ${losses.join(', ')}`).toBeLessThan(losses[0]!);
          tf.dispose([x, y]);
          optimizer.dispose();
          model.dispose();
        }, `${arch.name}/${optimizerName}`);
      }
    });
  }
});
