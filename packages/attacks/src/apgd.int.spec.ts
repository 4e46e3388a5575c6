// APGD against the fixed-step PGD-40 the examples used before (step 0.01), on a small model trained
// on real digits: the parameter-free attack must find at least as many adversarials.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayersStudent, Rng, batchIndices, createOptimizer, crossEntropy, deriveSeed, optimizeStep, permutation, type Model } from '@tempered/core';
import { loadEmbeddedMnist } from '@tempered/datasets';
import { Apgd } from './apgd.js';
import { AutoAttack } from './autoattack.js';
import { Pgd } from './pgd.js';
import { attackRecords } from './records.js';
import { toModel } from './model-like.js';

const EXAMPLES = 40;
let student: LayersStudent;
let x: tf.Tensor;
let y: tf.Tensor1D;

/** 784-64-10 MLP, Adam 1e-3, 3 epochs on 2000 digits (≈ 90 % held-out accuracy, a few seconds). */
function trainMlp(): LayersStudent {
  const { train } = loadEmbeddedMnist({ trainSize: 2000, testSize: 200 });
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const net = new LayersStudent(model, { name: 'mlp' });
  const optimizer = createOptimizer({ name: 'adam', learningRate: 1e-3 });
  for (let epoch = 0; epoch < 3; epoch++) {
    for (const indices of batchIndices(permutation(train.size, new Rng(deriveSeed(1, 'shuffle', epoch))), 64)) {
      const batch = train.batch(indices);
      optimizeStep(optimizer, net.trainableVariables(), () => ({ loss: crossEntropy(net.logits(batch.x, { training: true }), batch.labels) }));
      tf.dispose([batch.x, batch.labels]);
    }
  }
  optimizer.dispose();
  return net;
}

/** Robust accuracy of `model` on (x, y) under `attack`. */
async function robustAccuracy(model: Model, attack: { generate: Apgd['generate'] }): Promise<boolean[]> {
  const adversarial = await attack.generate(model, x, y, { seed: 1 });
  const robust = attackRecords(model, x, adversarial, y).map((r) => !r.success);
  adversarial.dispose();
  return robust;
}

const rate = (flags: boolean[]) => flags.filter(Boolean).length / flags.length;

beforeAll(() => {
  student = trainMlp();
  const { test } = loadEmbeddedMnist({ trainSize: 2000, testSize: 200 });
  // The first EXAMPLES held-out digits the model classifies correctly.
  const all = test.batch(Int32Array.from({ length: test.size }, (_, i) => i));
  const correct = tf.tidy(() => Array.from(tf.equal(tf.argMax(student.logits(all.x), 1), all.labels).dataSync(), Boolean));
  const keep = correct.flatMap((c, i) => (c ? [i] : [])).slice(0, EXAMPLES);
  expect(keep.length).toBe(EXAMPLES); // the model learned the task
  const index = tf.tensor1d(keep, 'int32');
  x = tf.gather(all.x, index);
  y = tf.gather(all.labels, index) as tf.Tensor1D;
  tf.dispose([all.x, all.labels, index]);
});

afterAll(() => {
  tf.dispose([x, y]);
  student.dispose();
});

describe('APGD on a model trained on MNIST', () => {
  it('breaks at least as many digits as PGD-40 with the old step 0.01 (ε = 0.05), APGD-DLR too', async () => {
    const pgd = await robustAccuracy(student, new Pgd({ epsilon: 0.05, stepSize: 0.01, steps: 40 }));
    const apgdCe = await robustAccuracy(student, new Apgd({ epsilon: 0.05 }));
    const apgdDlr = await robustAccuracy(student, new Apgd({ epsilon: 0.05, loss: 'dlr' }));
    // Non-trivial: PGD leaves some digits robust and breaks others. (Measured: 0.775 for all three;
    // at this small ε the old PGD converges, the saturated case below is where it does not.)
    expect(rate(pgd)).toBeGreaterThan(0.1);
    expect(rate(pgd)).toBeLessThan(0.9);
    expect(rate(apgdCe)).toBeLessThanOrEqual(rate(pgd));
    expect(rate(apgdDlr)).toBeLessThanOrEqual(rate(pgd));
  });

  it('on the same model with saturated logits (×1000, like a distilled student) CE-PGD-40 stalls, APGD-DLR and AutoAttack do not', async () => {
    const saturated = toModel((input) => tf.tidy(() => tf.mul(student.logits(input), 1000) as tf.Tensor2D), { numClasses: 10, inputShape: [28, 28, 1] });
    const pgd = await robustAccuracy(saturated, new Pgd({ epsilon: 0.05, stepSize: 0.01, steps: 40 }));
    const apgdDlr = await robustAccuracy(saturated, new Apgd({ epsilon: 0.05, loss: 'dlr' }));
    const unsaturated = await robustAccuracy(student, new Apgd({ epsilon: 0.05, loss: 'dlr' }));
    // The saturated softmax makes CE's gradient vanish in float32: PGD overstates robustness
    // (measured: 0.975 against 0.775).
    expect(rate(pgd)).toBeGreaterThan(rate(unsaturated) + 0.15);
    // DLR is invariant to the scale, so APGD-DLR finds what it finds on the original model.
    expect(Math.abs(rate(apgdDlr) - rate(unsaturated))).toBeLessThanOrEqual(0.1);
    const { adversarial, brokenBy, ran } = await new AutoAttack({ epsilon: 0.05, version: 'custom', attacks: 'apgd-ce,apgd-t,square', steps: 50, targetClasses: 3, queries: 200 }).run(saturated, x, y, { seed: 1 });
    adversarial.dispose();
    // FAB-T is left out here (its own specs check it); what is asserted is that the ensemble's
    // worst case is not fooled by the saturated softmax.
    expect(ran).toContain('apgd-t');
    expect(brokenBy!.filter((b) => b === null).length / EXAMPLES).toBeLessThanOrEqual(rate(apgdDlr));
  });
});
