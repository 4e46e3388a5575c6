// tsyringe needs the Reflect metadata polyfill before it loads: an outside plugin's spec imports
// only this module (no setup file), so it comes first here.
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { LayersStudent, LayersTeacher } from './model.js';
import { batchIndices } from './data.js';
import { optimizeStep } from './step.js';
import { createOptimizer } from './optimizers.js';
import { crossEntropy } from './ops.js';
import { Rng, deriveSeed, permutation } from './random.js';
import type { Dataset, Teacher } from './types.js';

/**
 * Test helpers (imported from `@tempered/core/testing`), public so that an outside plugin's specs use
 * the same fixtures as Tempered's own. Every spec that touches tensors uses {@link expectNoLeaks}:
 * `tf.memory().numTensors` must return to its baseline. Real digits for these models come from
 * `mnistTiny()` in `@tempered/datasets/testing`. Importing this module loads `reflect-metadata`, so a spec
 * needs no setup file and no tsyringe import: {@link testContainer} gives it a fresh container.
 */

/**
 * A fresh DI container for one spec file (a child of tsyringe's root, so nothing a spec registers
 * leaks into another), with each given `register(container)` already called, e.g. the plugin
 * package's own and `@tempered/attacks`'.
 *
 * @example
 * ```ts
 * import { testContainer } from '@tempered/core/testing';
 * import { register } from './index.js';
 * const container = testContainer(register);
 * const method = createPlugin(container, TOKENS.Method, 'my-method', {});
 * ```
 */
export function testContainer(...registers: ReadonlyArray<(container: DependencyContainer) => void>): DependencyContainer {
  const container = rootContainer.createChildContainer();
  for (const register of registers) register(container);
  return container;
}

/** Runs `fn` (sync or async) and throws if it leaves tensors behind. Returns fn's result. */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>, label = 'operation'): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`${label} leaked ${after - before} tensor(s): numTensors ${before} → ${after}`);
  }
  return result;
}

/** Switches to a backend for a spec and returns a function that restores the previous one. */
export async function useBackend(name: string): Promise<() => Promise<void>> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  await tf.ready();
  return async () => {
    if (previous) {
      await tf.setBackend(previous);
      await tf.ready();
    }
  };
}

/**
 * Makes sure a Debian package a spec needs is installed, installing it with apt when it is not
 * (running `apt-get update` first on a machine without package lists). `present` says whether
 * the package's files are already there. Throws one line naming the package when apt fails, so a
 * missing dependency fails the spec instead of skipping it.
 */
export async function ensureAptPackage(pkg: string, present: () => boolean, why: string): Promise<void> {
  if (present()) return;
  const { spawnSync } = await import('node:child_process');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Specs run in parallel, so another one may hold the dpkg lock: wait for it instead of failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  const install = () => spawnSync('apt-get', [...lock, 'install', '-y', '--no-install-recommends', pkg], { encoding: 'utf8', env });
  let result = install();
  if (result.status !== 0) {
    spawnSync('apt-get', [...lock, 'update'], { encoding: 'utf8', env });
    result = install();
  }
  if (result.status !== 0 || !present()) {
    const tail = `${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim().split('\n').slice(-3).join(' ');
    throw new Error(`${why} needs the Debian package ${pkg}, and \`apt-get install -y ${pkg}\` failed: ${tail}`);
  }
}

const MNIST_SHAPE = [28, 28, 1];

/** A flatten → hidden (ReLU, layer "features") → 10 MLP with seeded Glorot weights. */
export function buildMlp(name: string, seed: number, hidden = 32, inputShape: readonly number[] = MNIST_SHAPE): tf.LayersModel {
  const model = tf.sequential({ name });
  model.add(tf.layers.flatten({ inputShape: [...inputShape] }));
  model.add(
    tf.layers.dense({
      units: hidden,
      activation: 'relu',
      name: 'features',
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name, 'features') }),
    }),
  );
  model.add(
    tf.layers.dense({ units: 10, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name, 'logits') }) }),
  );
  return model;
}

/** {@link buildMlp} as a student. */
export function mlpStudent(name: string, seed: number, hidden = 32): LayersStudent {
  return new LayersStudent(buildMlp(name, seed, hidden), { name });
}

/** A flatten → 10 linear model: no "features" layer, for capability checks. */
export function linearStudent(name: string, seed: number): LayersStudent {
  const model = tf.sequential({ name });
  model.add(tf.layers.flatten({ inputShape: MNIST_SHAPE }));
  model.add(tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name) }) }));
  return new LayersStudent(model, { name });
}

/** Trains an MLP on clean `data` (Adam 3e-3, batch 50, seeded shuffles) and freezes it as a teacher. */
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
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(batch.x), 1), batch.labels), 'int32')).dataSync()[0]!);
  batch.x.dispose();
  batch.labels.dispose();
  return correct / data.size;
}
