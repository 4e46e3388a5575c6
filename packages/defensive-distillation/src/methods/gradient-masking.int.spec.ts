import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { median, type Model, type Student, type TrainingMethod } from '@tempered/core';
import { expectNoLeaks } from '../../../core/src/testing.js';
import { accuracy, make, methodSetup, mnistDigits, train } from '../mnist.fixtures.js';
import { DEFENSIVE_DISTILLATION } from './defensive-distillation.js';
// The baselines live in @tempered/baselines (which depends on this package), so specs reach them by path.
import { STANDARD } from '../../../baselines/src/standard.js';

/**
 * The effect Papernot et al. (2016, §V-C, Fig. 8) report: a student distilled at a high
 * temperature and deployed at T = 1 has input gradients of its softmax orders of magnitude
 * smaller than a normally trained model. What we measure, per held-out digit x with predicted
 * class c = argmax z(x), at T = 1:
 *   - softmaxGradient: ‖∂ softmax(z(x))_c / ∂x‖₁   (the gradient FGSM/JSMA-style attacks follow)
 *   - ceGradient:      ‖∂ CE(softmax(z(x)), y) / ∂x‖₁
 *   - logitGradient:   ‖∂ z(x)_c / ∂x‖₁            (what C&W attacks on the logits follow)
 * summarised by the median and the geometric mean over examples, as the paper's histograms are
 * of per-example magnitudes. (The arithmetic mean is dominated by the handful of digits near a
 * decision boundary, where the distilled model's sharper softmax has *larger* gradients; that is
 * part of why the defence does not hold.) Gradients that underflow to 0 in float32 enter the
 * geometric mean as 1e-45.
 */

interface Sensitivity {
  readonly softmaxGradient: Float64Array;
  readonly ceGradient: Float64Array;
  readonly logitGradient: Float64Array;
}

function sensitivity(model: Model, x: tf.Tensor, labels: tf.Tensor1D): Sensitivity {
  const predicted = tf.tidy(() => tf.oneHot(tf.argMax(model.logits(x), 1), model.numClasses));
  const oneHotLabels = tf.tidy(() => tf.oneHot(labels, model.numClasses));
  // Rows do not interact in an MLP, so the gradient of a sum over the batch is per-example.
  const perExampleL1 = (f: (input: tf.Tensor) => tf.Scalar): Float64Array => {
    const norms = tf.tidy(() => tf.sum(tf.abs(tf.grad(f)(x)), 1));
    const values = Float64Array.from(norms.dataSync());
    norms.dispose();
    return values;
  };
  try {
    return {
      softmaxGradient: perExampleL1((input) => tf.sum(tf.mul(tf.softmax(model.logits(input)), predicted))),
      ceGradient: perExampleL1((input) => tf.neg(tf.sum(tf.mul(tf.logSoftmax(model.logits(input)), oneHotLabels)))),
      logitGradient: perExampleL1((input) => tf.sum(tf.mul(model.logits(input), predicted))),
    };
  } finally {
    predicted.dispose();
    oneHotLabels.dispose();
  }
}

function geometricMean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += Math.log(Math.max(v, 1e-45));
  return Math.exp(sum / values.length);
}

const EPOCHS = 20;
const LEARNING_RATE = 1e-2;

describe('the defensive-distillation effect (gradient masking at T = 1)', () => {
  const train500 = mnistDigits(50, 0, 'mnist-train');
  const heldOut = mnistDigits(20, 600, 'mnist-held-out');
  const models: Record<string, Student> = {};
  const disposers: Array<() => void> = [];

  async function trained(key: string, make: () => TrainingMethod): Promise<Student> {
    if (models[key]) return models[key];
    const method = make();
    const setup = methodSetup(train500, 21);
    method.setup(setup);
    await train(method, train500, 21);
    disposers.push(() => {
      method.dispose();
      setup.student.dispose();
    });
    return (models[key] = method.result());
  }

  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  afterAll(() => {
    for (const dispose of disposers) dispose();
  });

  it('at T = 20 shrinks the median softmax input gradient ≥ 100× versus standard training, without shrinking the logit gradient', async () => {
    const standard = await trained('standard', () => make(STANDARD, { epochs: EPOCHS, learningRate: LEARNING_RATE }));
    const distilled = await trained('t20', () => make(DEFENSIVE_DISTILLATION, { temperature: 20, teacherEpochs: EPOCHS, epochs: EPOCHS, learningRate: LEARNING_RATE }));
    const { x, labels } = heldOut.batch(Int32Array.from({ length: heldOut.size }, (_, i) => i));
    const [s, d] = await expectNoLeaks(() => [sensitivity(standard, x, labels), sensitivity(distilled, x, labels)] as const, 'gradient measurement');
    x.dispose();
    labels.dispose();

    const report = {
      medianSoftmax: [median(s.softmaxGradient), median(d.softmaxGradient)],
      geometricSoftmax: [geometricMean(s.softmaxGradient), geometricMean(d.softmaxGradient)],
      medianCe: [median(s.ceGradient), median(d.ceGradient)],
      medianLogit: [median(s.logitGradient), median(d.logitGradient)],
      accuracy: [accuracy(standard, heldOut), accuracy(distilled, heldOut)],
    };
    console.info('standard vs distilled (T = 20), held-out MNIST:', JSON.stringify(report));

    // Both classify held-out digits comparably (the paper: accuracy within ~1.3 points).
    expect(report.accuracy[0]).toBeGreaterThan(0.7);
    expect(report.accuracy[1]).toBeGreaterThan(0.7);
    // The paper's effect: softmax (and cross-entropy) gradients at T = 1 vanish.
    expect(report.medianSoftmax[1]! * 100).toBeLessThanOrEqual(report.medianSoftmax[0]!);
    expect(report.geometricSoftmax[1]! * 100).toBeLessThanOrEqual(report.geometricSoftmax[0]!);
    expect(report.medianCe[1]! * 100).toBeLessThanOrEqual(report.medianCe[0]!);
    // ...because the logits grew, not because the model became insensitive: the logit gradient
    // is at least as large as the standard model's. Attacks on logits (C&W) are unaffected.
    expect(report.medianLogit[1]!).toBeGreaterThan(report.medianLogit[0]!);
  });

  it('at T = 1 distillation does not produce the effect (the temperature is what matters)', async () => {
    const standard = await trained('standard', () => make(STANDARD, { epochs: EPOCHS, learningRate: LEARNING_RATE }));
    const distilled = await trained('t1', () => make(DEFENSIVE_DISTILLATION, { temperature: 1, teacherEpochs: EPOCHS, epochs: EPOCHS, learningRate: LEARNING_RATE }));
    const { x, labels } = heldOut.batch(Int32Array.from({ length: heldOut.size }, (_, i) => i));
    const s = sensitivity(standard, x, labels);
    const d = sensitivity(distilled, x, labels);
    x.dispose();
    labels.dispose();
    const ratio = median(s.softmaxGradient) / median(d.softmaxGradient);
    console.info('median softmax-gradient ratio standard / distilled at T = 1:', ratio);
    expect(ratio).toBeLessThan(100);
    expect(ratio).toBeGreaterThan(1 / 100);
  });
});
