/**
 * The ε warm-up lets adversarial training from scratch at MNIST's ε = 0.3 leave chance.
 *
 * `pgd-at` with its default warm-up (ε and step size ramp over the first epoch), ε 0.3, 4 × 0.1,
 * on the half-width Papernot CNN, 1,000 embedded training digits, batch 64, 3 epochs, Adam 1e-3.
 * Measured clean accuracy on 300 test digits (wasm): seeds 1–5 → 0.63, 0.70, 0.46, 0.43, 0.48.
 * The same run with `warmupEpochs: 0` (full ε from the first step, the papers' schedule) stays at
 * chance: seeds 1–2 → 0.087, 0.090 (and the full 8,000-digit run in the issue sat at 11 % training
 * accuracy for 3 epochs). The spec asks for 0.25. About 20 s on 2 busy cores.
 */
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer, TOKENS, createPlugin, deriveSeed, selectBackend, type Dataset, type TrainingMethod, type ModelArchitecture, type Student } from '@tempered/core';
import { register as registerAttacks } from '@tempered/attacks';
import { register as registerBaselines } from '@tempered/baselines';
import { register as registerModels } from '@tempered/models';
import { loadEmbeddedMnist } from '@tempered/datasets';

function accuracy(model: Student, data: Dataset): number {
  const { x, labels } = data.batch(Int32Array.from({ length: data.size }, (_, i) => i));
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(x), 1), labels), 'int32')).dataSync()[0]!);
  tf.dispose([x, labels]);
  return correct / data.size;
}

describe('ε warm-up', () => {
  beforeAll(async () => {
    await selectBackend('wasm'); // the framework's default backend, with its training kernels
  });

  it('a pgd-at MNIST student at ε = 0.3 leaves chance within 3 epochs (default warm-up)', async () => {
    const seed = 1;
    const { train, test } = loadEmbeddedMnist({ trainSize: 1000, testSize: 300 });
    const container = rootContainer.createChildContainer();
    registerAttacks(container);
    registerBaselines(container);
    registerModels(container);
    const arch = createPlugin(container, TOKENS.Model, 'papernot-mnist', { widthMultiplier: 0.5 }) as ModelArchitecture;
    const build = (name: string) => arch.build({ name, inputShape: [28, 28, 1], numClasses: 10, seed: deriveSeed(seed, 'init', name) });
    const student = build('pgd-at');
    const method = createPlugin(container, TOKENS.Method, 'pgd-at', { epsilon: 0.3, stepSize: 0.1, steps: 4, epochs: 3 }) as TrainingMethod;
    expect(method.params()).toMatchObject({ warmupEpochs: 1, cleanEpochs: 0 });
    await method.setup({ student, createModel: build, train, batchSize: 64, seed, container });
    await new Trainer().run(method, { model: 'pgd-at', train, batchSize: 64, seed });
    method.dispose();
    expect(accuracy(student, test)).toBeGreaterThan(0.25);
    student.dispose();
  });
});
