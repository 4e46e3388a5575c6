/**
 * Spec-only fixtures (excluded from the build): a few hundred real MNIST digits from
 * @tempered/datasets' embedded split, a tiny seeded MLP with a `features` layer, and a briefly
 * trained teacher.
 */
import * as tf from '@tensorflow/tfjs';
import {
  LayersStudent,
  LayersTeacher,
  Rng,
  batchIndices,
  createOptimizer,
  crossEntropy,
  deriveSeed,
  optimizeStep,
  permutation,
  type Dataset,
  type Teacher,
} from '@tempered/core';
import { loadEmbeddedMnist } from '@tempered/datasets';

const INPUT_SHAPE = [28, 28, 1];

/**
 * Disjoint real-digit sets from the embedded MNIST split (near class-balanced, fixed order):
 * 200 training digits for the student, the next 300 for the spec teacher, 300 held-out test digits.
 */
export function mnistTiny(): { train: Dataset; teacherTrain: Dataset; heldOut: Dataset } {
  const { train, test } = loadEmbeddedMnist({ trainSize: 500, testSize: 300 });
  return { train: train.slice(0, 200), teacherTrain: train.slice(200, 300), heldOut: test };
}

/** A flatten → hidden (ReLU, layer "features") → 10 MLP with seeded Glorot weights. */
export function buildMlp(name: string, seed: number, hidden = 32): tf.LayersModel {
  const model = tf.sequential({ name });
  model.add(tf.layers.flatten({ inputShape: INPUT_SHAPE }));
  model.add(
    tf.layers.dense({
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

/** A flatten → 10 linear model: no "features" layer, for the capability checks. */
export function linearStudent(name: string, seed: number): LayersStudent {
  const model = tf.sequential({ name });
  model.add(tf.layers.flatten({ inputShape: INPUT_SHAPE }));
  model.add(
    tf.layers.dense({
      units: 10,
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name) }),
    }),
  );
  return new LayersStudent(model, { name });
}

/** Trains an MLP on clean `data` with core's optimizeStep and freezes it as a teacher. */
export function trainTeacher(data: Dataset, options: { epochs?: number; hidden?: number; seed?: number } = {}): Teacher {
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
export function accuracy(model: { logits(x: tf.Tensor): tf.Tensor2D }, data: Dataset): number {
  const indices = Int32Array.from({ length: data.size }, (_, i) => i);
  const batch = data.batch(indices);
  const correct = tf.tidy(() =>
    tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(batch.x), 1), batch.labels), 'int32')).dataSync()[0]!,
  );
  batch.x.dispose();
  batch.labels.dispose();
  return correct / data.size;
}
