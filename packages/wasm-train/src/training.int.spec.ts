import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import './index.js';
import { expectNoLeak, randomValues, useBackend } from './spec-support/helpers.js';

/**
 * Two-class 8x8 images: class 0 has a bright vertical bar, class 1 a horizontal one, at random positions,
 * on noise. Separable by a small CNN in a few epochs.
 */
function barsDataset(count: number, seed: number): { xs: Float32Array; labels: Int32Array } {
  const noise = randomValues(count * 64 + count * 2, seed);
  const xs = new Float32Array(count * 64);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const at = 1 + Math.floor(Math.abs(noise[count * 64 + 2 * i]!) * 3) % 6;
    labels[i] = label;
    for (let p = 0; p < 64; p++) {
      const row = p >> 3;
      const col = p & 7;
      const onBar = label === 0 ? col === at : row === at;
      xs[i * 64 + p] = (onBar ? 1 : 0) + 0.15 * noise[i * 64 + p]!;
    }
  }
  return { xs, labels };
}

function smallCnn(seed: number): tf.LayersModel {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed + offset });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: init(2) }),
    ],
  });
}

async function trainAndScore(backend: 'wasm' | 'cpu'): Promise<number> {
  await useBackend(backend);
  const train = barsDataset(96, 11);
  const test = barsDataset(64, 12);
  const model = smallCnn(3);
  model.compile({ optimizer: tf.train.adam(0.02), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.tensor4d(train.xs, [96, 8, 8, 1]);
  const ys = tf.tensor1d(train.labels, 'float32');
  await model.fit(xs, ys, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0 });
  const testXs = tf.tensor4d(test.xs, [64, 8, 8, 1]);
  const predicted = tf.tidy(() => (model.predict(testXs) as tf.Tensor).argMax(1));
  const labels = await predicted.data();
  let correct = 0;
  for (let i = 0; i < 64; i++) if (labels[i] === test.labels[i]) correct++;
  tf.dispose([xs, ys, testXs, predicted]);
  model.dispose();
  return correct / 64;
}

/** Every layer type the brief lists, in one graph: conv2d, depthwise, separable, batchnorm, pools, dense, dropout, add, relu, relu6, flatten. */
function everyLayerModel(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', strides: 2 }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  let branch = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2 }).apply(x) as tf.SymbolicTensor;
  branch = tf.layers.separableConv2d({ filters: 6, kernelSize: 3, padding: 'same' }).apply(branch) as tf.SymbolicTensor;
  branch = tf.layers.reLU().apply(branch) as tf.SymbolicTensor;
  x = tf.layers.add().apply([x, branch]) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  const averaged = tf.layers.averagePooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  const global = tf.layers.globalAveragePooling2d({}).apply(averaged) as tf.SymbolicTensor;
  let flat = tf.layers.flatten().apply(pooled) as tf.SymbolicTensor;
  flat = tf.layers.dropout({ rate: 0.2 }).apply(flat) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([flat, global]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('training on wasm', () => {
  it('reaches the same accuracy as the cpu backend on a separable toy task', async () => {
    const wasm = await trainAndScore('wasm');
    const cpu = await trainAndScore('cpu');
    // Same seeds and data; float summation order differs, so allow a few test images of noise.
    expect(wasm).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(wasm - cpu)).toBeLessThanOrEqual(0.1);
  });

  it.each(['sgd', 'momentum', 'adam'] as const)('trains every layer type with %s without a missing kernel or a leak', async (name) => {
    await useBackend('wasm');
    const model = everyLayerModel();
    const optimizer = name === 'sgd' ? tf.train.sgd(0.05) : name === 'momentum' ? tf.train.momentum(0.05, 0.9) : tf.train.adam(0.01);
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const xs = tf.tensor4d(randomValues(4 * 12 * 12 * 3, 21), [4, 12, 12, 3]);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    const history = await model.fit(xs, ys, { epochs: 2, batchSize: 4, verbose: 0 });
    expect(history.history.loss!.every((loss) => Number.isFinite(loss as number))).toBe(true);
    // After the optimizer has created its slots, a further step must not grow the tensor count.
    await expectNoLeak(async () => {
      tf.tidy(() => {
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
      });
    });
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('computes input gradients through conv, depthwise and pooling layers without leaks', async () => {
    await useBackend('wasm');
    const model = everyLayerModel();
    const xs = tf.tensor4d(randomValues(2 * 12 * 12 * 3, 5), [2, 12, 12, 3]);
    // Positions of the true classes (2 and 0) in the flattened [2, 3] probabilities; gather's gradient
    // needs UnsortedSegmentSum.
    const truePositions = tf.tensor1d([2, 3], 'int32');
    const inputGrad = tf.grad((x: tf.Tensor) =>
      tf.gather((model.predict(x) as tf.Tensor).reshape([-1]), truePositions).log().sum().neg(),
    );
    tf.dispose(inputGrad(xs));
    await expectNoLeak(async () => {
      const grad = inputGrad(xs);
      expect(grad.shape).toEqual([2, 12, 12, 3]);
      expect(Array.from(await grad.data()).some((v) => v !== 0)).toBe(true);
      grad.dispose();
    });
    tf.dispose([xs, truePositions]);
    model.dispose();
  });
});
