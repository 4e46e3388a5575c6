import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import {
  ConfigError,
  LayersStudent,
  Rng,
  TOKENS,
  createOptimizer,
  crossEntropy,
  listPlugins,
  loadLayersModel,
  optimizeStep,
  saveLayersModel,
  type Student,
} from '@tempered/core/node';
import { expectNoLeaks } from '../../core/src/testing.js';
import { buildModel, register } from './register.js';
import { SeededDropoutStudent } from './common.js';

/** Small widths keep the cpu backend fast; the default-width builds are covered by the shape spec. */
const SMALL: Record<string, Record<string, unknown>> = {
  'papernot-mnist': { widthMultiplier: 0.25 },
  'papernot-cifar': { widthMultiplier: 0.125 },
  'resnet-small': { depth: 8, widthMultiplier: 0.5 },
  'mobilenet-v2-small': { widthMultiplier: 0.25, expansion: 2, headChannels: 32 },
  mlp: { hiddenSizes: '32,16' },
};
const ARCHITECTURES = Object.keys(SMALL);
const SHAPES: Array<[number, number, number]> = [
  [28, 28, 1],
  [32, 32, 3],
];

/** Layer classes of the standard tfjs-layers serialization format (no custom layers). */
const STANDARD_LAYERS = new Set([
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'Dense', 'MaxPooling2D', 'Flatten', 'Dropout',
  'BatchNormalization', 'Activation', 'ReLU', 'Add', 'GlobalAveragePooling2D',
]);

let container: DependencyContainer;
let root: string;
beforeAll(() => {
  container = rootContainer.createChildContainer();
  register(container);
  root = mkdtempSync(join(tmpdir(), 'tempered-models-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function layersOf(student: Student): tf.LayersModel {
  return (student as LayersStudent).layersModel;
}

function randomBatch(shape: readonly number[], batch: number, numClasses: number, seed: number): { x: tf.Tensor; labels: tf.Tensor1D } {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % numClasses);
  return { x: tf.tensor(rng.uniformArray(batch * size, 0, 1), [batch, ...shape]), labels: tf.tensor1d(labels, 'int32') };
}

describe('model registry', () => {
  it('registers the five architectures by name', () => {
    expect(listPlugins(container, TOKENS.Model)).toEqual(['mlp', 'mobilenet-v2-small', 'papernot-cifar', 'papernot-mnist', 'resnet-small']);
  });

  it('rejects bad parameters and shapes with ConfigErrors naming the field', () => {
    const options = { name: 'm', inputShape: [28, 28, 1], numClasses: 10, seed: 0 };
    expect(() => buildModel(container, 'resnet-small', options, { depth: 9 })).toThrow(/^resnet-small\.depth: expected 6n \+ 2/);
    expect(() => buildModel(container, 'mlp', options, { hiddenSizes: '64,x' })).toThrow(/^mlp\.hiddenSizes: expected comma-separated positive integers/);
    expect(() => buildModel(container, 'papernot-mnist', { ...options, inputShape: [28, 28] })).toThrow(/^papernot-mnist\.inputShape: expected \[height, width, channels\]/);
    expect(() => buildModel(container, 'papernot-mnist', { ...options, inputShape: [8, 8, 1] })).toThrow(/≥ 12/);
    expect(() => buildModel(container, 'mobilenet-v2-small', options, { width: 2 })).toThrow(ConfigError);
    expect(() => buildModel(container, 'mlp', { ...options, numClasses: 1 })).toThrow(/^mlp\.numClasses/);
  });
});

describe.each(ARCHITECTURES)('%s', (architecture) => {
  it.each(SHAPES)('builds at default params for %i×%i×%i: logits [batch, classes], 2-D features, linear logits layer', async (h, w, c) => {
    await expectNoLeaks(() => {
      const numClasses = c === 1 ? 10 : 7;
      const student = buildModel(container, architecture, { name: `${architecture}-student`, inputShape: [h, w, c], numClasses, seed: 1 });
      try {
        expect(student.name).toBe(`${architecture}-student`);
        expect(student.role).toBe('student');
        expect(student.inputShape).toEqual([h, w, c]);
        expect(student.numClasses).toBe(numClasses);
        expect(student.hasFeatures).toBe(true);
        expect(student.trainableVariables().length).toBeGreaterThan(0);
        const model = layersOf(student);
        for (const layer of model.layers) expect(STANDARD_LAYERS.has(layer.getClassName()), layer.getClassName()).toBe(true);
        const last = model.layers[model.layers.length - 1]!;
        expect(last.getConfig().activation).toBe('linear');
        tf.tidy(() => {
          const x = tf.randomUniform([2, h, w, c], 0, 1, 'float32', 5);
          const { logits, features } = student.forward(x);
          expect(logits.shape).toEqual([2, numClasses]);
          expect(features!.rank).toBe(2);
          expect(features!.shape[0]).toBe(2);
          expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
          // `features` is the penultimate layer: the logits are an affine map of it.
          const [kernel, bias] = last.getWeights();
          const affine = features!.matMul(kernel as tf.Tensor2D).add(bias!);
          expect(affine.sub(logits).abs().max().dataSync()[0]).toBeLessThan(1e-4);
          // logits() and forward() agree.
          expect(student.logits(x).sub(logits).abs().max().dataSync()[0]).toBe(0);
        });
      } finally {
        student.dispose();
      }
    });
  });

  it('same seed → bit-identical weights; another seed → different weights', async () => {
    await expectNoLeaks(() => {
      const options = { name: 'm', inputShape: [28, 28, 1], numClasses: 10 };
      const [a, b, other] = [3, 3, 4].map((seed) => buildModel(container, architecture, { ...options, seed }, SMALL[architecture]));
      const [wa, wb, wo] = [a!, b!, other!].map((m) => m.getWeights());
      try {
        expect(wa!.length).toBe(wb!.length);
        wa!.forEach((t, i) => expect(t.dataSync()).toEqual(wb![i]!.dataSync()));
        // Every kernel differs under another seed (biases and BN start at constants).
        const kernels = wa!.map((t, i) => [t, wo![i]!] as const).filter(([t]) => t.rank >= 2);
        expect(kernels.length).toBeGreaterThan(0);
        for (const [t, u] of kernels) expect(t.dataSync()).not.toEqual(u.dataSync());
      } finally {
        [...wa!, ...wb!, ...wo!].forEach((t) => t.dispose());
        [a, b, other].forEach((m) => m!.dispose());
      }
    });
  });

  it('one SGD step reduces the training loss on a tiny fixed batch and moves every trainable variable', async () => {
    await expectNoLeaks(() => {
      const student = buildModel(container, architecture, { name: 'm', inputShape: [28, 28, 1], numClasses: 4, seed: 7 }, SMALL[architecture]);
      const optimizer = createOptimizer({ name: 'sgd', learningRate: 0.01 });
      const { x, labels } = randomBatch([28, 28, 1], 8, 4, 11);
      try {
        const loss = () => tf.tidy(() => crossEntropy(student.logits(x, { training: true }), labels).dataSync()[0]!);
        const before = student.trainableVariables().map((v) => v.clone());
        const initial = loss();
        const result = optimizeStep(optimizer, student.trainableVariables(), () => {
          const logits = student.logits(x, { training: true });
          return { loss: crossEntropy(logits, labels), logits, labels };
        });
        expect(result.loss).toBeCloseTo(initial, 4);
        const after = loss();
        expect(after).toBeLessThan(initial);
        const moved = student.trainableVariables().map((v, i) => tf.tidy(() => v.sub(before[i]!).abs().max().dataSync()[0]!));
        expect(moved.every((d) => d > 0)).toBe(true);
        before.forEach((t) => t.dispose());
      } finally {
        x.dispose();
        labels.dispose();
        optimizer.dispose();
        student.dispose();
      }
    });
  });

  it('save → load through core model I/O keeps logits and the features layer', async () => {
    const dir = join(root, architecture);
    const student = buildModel(container, architecture, { name: 'm', inputShape: [32, 32, 3], numClasses: 10, seed: 2 }, SMALL[architecture]);
    const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 9);
    await expectNoLeaks(async () => {
      await saveLayersModel(layersOf(student), dir);
      const topology = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: Array<{ class_name: string }> } } };
      for (const layer of topology.modelTopology.config.layers) expect(STANDARD_LAYERS.has(layer.class_name), layer.class_name).toBe(true);
      const loaded = new LayersStudent(await loadLayersModel(dir), { name: 'loaded' });
      try {
        expect(loaded.hasFeatures).toBe(true);
        tf.tidy(() => {
          const original = student.forward(x);
          const restored = loaded.forward(x);
          expect(restored.features!.shape).toEqual(original.features!.shape);
          expect(restored.logits.sub(original.logits).abs().max().dataSync()[0]).toBeLessThan(1e-5);
          expect(restored.features!.sub(original.features!).abs().max().dataSync()[0]).toBeLessThan(1e-5);
        });
      } finally {
        loaded.dispose();
      }
    });
    x.dispose();
    student.dispose();
  });
});

describe('seeded dropout', () => {
  it('draws a fresh mask per training call, reproducibly from the seed, and is the identity at inference', async () => {
    await expectNoLeaks(() => {
      const options = { name: 'd', inputShape: [28, 28, 1], numClasses: 10, seed: 5 };
      const a = buildModel(container, 'mlp', options, { hiddenSizes: '64,32', dropout: 0.5 });
      const b = buildModel(container, 'mlp', options, { hiddenSizes: '64,32', dropout: 0.5 });
      const plain = buildModel(container, 'mlp', options, { hiddenSizes: '64,32' });
      expect(a).toBeInstanceOf(SeededDropoutStudent);
      expect(plain).not.toBeInstanceOf(SeededDropoutStudent);
      const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1);
      try {
        tf.tidy(() => {
          const a1 = a.logits(x, { training: true }).dataSync();
          const a2 = a.logits(x, { training: true }).dataSync();
          const b1 = b.logits(x, { training: true }).dataSync();
          const b2 = b.logits(x, { training: true }).dataSync();
          expect(a1).not.toEqual(a2);
          expect(a1).toEqual(b1);
          expect(a2).toEqual(b2);
          // Same seed, same weights: at inference dropout is the identity.
          expect(a.logits(x).dataSync()).toEqual(plain.logits(x).dataSync());
        });
      } finally {
        x.dispose();
        [a, b, plain].forEach((m) => m.dispose());
      }
    });
  });
});

describe('seed determinism (property)', () => {
  it('for any seed, two builds of the papernot MNIST CNN have identical initial logits', async () => {
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 3);
    await expectNoLeaks(() => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
          const options = { name: 'p', inputShape: [28, 28, 1], numClasses: 10, seed };
          const [a, b] = [0, 1].map(() => buildModel(container, 'papernot-mnist', options, SMALL['papernot-mnist']));
          try {
            tf.tidy(() => {
              expect(a!.logits(x).dataSync()).toEqual(b!.logits(x).dataSync());
            });
          } finally {
            a!.dispose();
            b!.dispose();
          }
        }),
        { numRuns: 5, seed: 17 },
      );
    });
    x.dispose();
  });
});
