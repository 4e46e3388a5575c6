import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayersStudent, crossEntropy, createOptimizer, optimizeStep, selectBackend } from '@tempered/core';
import { loadEmbeddedMnist } from '@tempered/datasets';
import { attackRecords, fgsm, pgd } from '@tempered/attacks';

/**
 * Attack results must not depend on the backend. A defensively distilled network deploys logits about T
 * times larger than it trained with, so its softmax saturates and the cross-entropy input gradient is tiny
 * (well below 1e-6) but non-zero. Stock tfjs-backend-wasm 4.22's `Sign` rounded every |x| < ~1e-6 to 0,
 * so FGSM and L∞ PGD did not move on wasm while they broke most digits on cpu. Here a small MLP trained
 * on real digits has its logit layer scaled by 40 (as deploying a T = 40 student does), and FGSM and PGD
 * must break exactly the same digits on wasm as on the cpu oracle.
 */

const SCALE = 40;
const EXAMPLES = 40;
let weights: Array<{ values: Float32Array; shape: number[] }>;
let x: { values: Float32Array; shape: number[] };
let labels: Int32Array;
let previous: string;

function buildMlp(): tf.LayersModel {
  const model = tf.sequential({ name: 'saturated' });
  model.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
  model.add(tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  model.add(tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  return model;
}

/** The trained, saturated weights on the current backend. */
function modelOnCurrentBackend(): LayersStudent {
  const model = buildMlp();
  model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
  return new LayersStudent(model, { name: 'saturated' });
}

interface Outcome {
  readonly fgsm: boolean[];
  readonly pgd: boolean[];
  readonly gradientMedian: number;
}

async function attackOn(backend: 'wasm' | 'cpu'): Promise<Outcome> {
  await tf.setBackend(backend);
  const model = modelOnCurrentBackend();
  const images = tf.tensor(x.values, x.shape);
  const y = tf.tensor1d(labels, 'int32');
  const gradient = tf.tidy(() => tf.grad((input: tf.Tensor) => crossEntropy(model.logits(input), y))(images));
  const magnitudes = Float32Array.from(gradient.dataSync(), Math.abs).filter((v) => v > 0).sort();
  gradient.dispose();
  const xFgsm = await fgsm(model, images, y, { epsilon: 0.3 });
  const xPgd = await pgd(model, images, y, { epsilon: 0.3, stepSize: 0.1, steps: 10, randomStart: false });
  const outcome: Outcome = {
    fgsm: attackRecords(model, images, xFgsm, y).map((r) => r.success),
    pgd: attackRecords(model, images, xPgd, y).map((r) => r.success),
    gradientMedian: magnitudes[Math.floor(magnitudes.length / 2)] ?? 0,
  };
  tf.dispose([xFgsm, xPgd, images, y]);
  model.dispose();
  return outcome;
}

beforeAll(async () => {
  previous = tf.getBackend();
  await selectBackend('wasm');
  const { train, test } = loadEmbeddedMnist({ trainSize: 600, testSize: EXAMPLES });
  const model = buildMlp();
  const student = new LayersStudent(model, { name: 'saturated' });
  const optimizer = createOptimizer({ name: 'adam', learningRate: 2e-3 });
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let start = 0; start < train.size; start += 50) {
      const batch = train.batch(Array.from({ length: 50 }, (_, i) => start + i));
      optimizeStep(optimizer, student.trainableVariables(), () => {
        const logits = student.logits(batch.x, { training: true });
        return { loss: crossEntropy(logits, batch.labels), logits, labels: batch.labels };
      });
      tf.dispose([batch.x, batch.labels]);
    }
  }
  optimizer.dispose();
  // Scale the logit layer: the softmax saturates as a distilled network's does at test time.
  const trained = model.getWeights();
  weights = trained.map((w, i) => ({ values: (i >= trained.length - 2 ? tf.tidy(() => tf.mul(w, SCALE)) : w).dataSync() as Float32Array, shape: [...w.shape] }));
  model.dispose();
  const all = test.batch(Array.from({ length: EXAMPLES }, (_, i) => i));
  x = { values: all.x.dataSync() as Float32Array, shape: [...all.x.shape] };
  labels = all.labels.dataSync() as Int32Array;
  tf.dispose([all.x, all.labels]);
}, 300_000);

afterAll(async () => {
  if (previous) await tf.setBackend(previous);
});

describe('attacks on a saturated softmax give the same results on wasm and cpu', () => {
  it('FGSM and PGD break exactly the same digits on both backends', async () => {
    const cpu = await attackOn('cpu');
    const wasm = await attackOn('wasm');
    // The regime this spec is about: most input-gradient components are below the old Sign cutoff.
    expect(cpu.gradientMedian).toBeLessThan(1e-6);
    expect(wasm.gradientMedian).toBeLessThan(1e-6);
    // On cpu the attacks do break digits (so equality below is not two idle attacks agreeing).
    expect(cpu.fgsm.filter(Boolean).length).toBeGreaterThan(EXAMPLES / 4);
    expect(cpu.pgd.filter(Boolean).length).toBeGreaterThan(EXAMPLES / 2);
    expect(wasm.fgsm).toEqual(cpu.fgsm);
    expect(wasm.pgd).toEqual(cpu.pgd);
  });
});
