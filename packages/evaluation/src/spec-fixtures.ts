import * as tf from '@tensorflow/tfjs';
import { ArrayDataset, LayersStudent, Rng, type Model } from '@tempered/core';

/**
 * Spec fixtures: a 3-class 4×4 "template" dataset and a linear model whose weights are the
 * centred class templates, so it classifies well without training. `logitScale` multiplies
 * the logits, e.g. ×5000 to mimic a network distilled at high temperature and deployed at
 * T = 1, whose softmax saturates and whose input gradients underflow to 0 (gradient masking).
 */
export const FIXTURE_SHAPE = [4, 4, 1] as const;
export const FIXTURE_CLASSES = 3;

function templates(): Float32Array[] {
  return Array.from({ length: FIXTURE_CLASSES }, (_, c) => Float32Array.from({ length: 16 }, (_, j) => (Math.floor(j / 4) % FIXTURE_CLASSES === c ? 0.8 : 0.2)));
}

export function fixtureDataset(size: number, seed = 7): ArrayDataset {
  const rng = new Rng(seed);
  const t = templates();
  const images = new Float32Array(size * 16);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const label = rng.int(FIXTURE_CLASSES);
    labels[i] = label;
    for (let j = 0; j < 16; j++) images[i * 16 + j] = Math.min(1, Math.max(0, t[label]![j]! + rng.uniform(-0.25, 0.25)));
  }
  return new ArrayDataset('fixture-templates', images, labels, FIXTURE_SHAPE, FIXTURE_CLASSES);
}

export function fixtureModel(name = 'fixture', logitScale = 1): LayersStudent {
  const model = tf.sequential({ name });
  model.add(tf.layers.flatten({ inputShape: [...FIXTURE_SHAPE], name: 'features' }));
  model.add(tf.layers.dense({ units: FIXTURE_CLASSES, name: 'logits' }));
  const t = templates();
  const kernel = new Float32Array(16 * FIXTURE_CLASSES);
  for (let j = 0; j < 16; j++) for (let c = 0; c < FIXTURE_CLASSES; c++) kernel[j * FIXTURE_CLASSES + c] = 4 * logitScale * (t[c]![j]! - 0.4);
  const weights = [tf.tensor2d(kernel, [16, FIXTURE_CLASSES]), tf.zeros([FIXTURE_CLASSES])];
  model.layers[1]!.setWeights(weights);
  tf.dispose(weights);
  return new LayersStudent(model, { name });
}

/**
 * `base` behind a stop-gradient: the same predictions, an input gradient of exactly zero (the
 * shattered-gradient defence of Athalye et al. 2018 in its purest form). Not a layers model, so
 * in-process evaluation only.
 */
export function stopGradientModel(base: Model, name = `${base.name}-stop-gradient`): Model {
  const logits = (x: tf.Tensor): tf.Tensor2D =>
    tf.customGrad((input: tf.Tensor, save: tf.GradSaveFunc) => {
      save([input]);
      return { value: base.logits(input, { training: false }), gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => tf.zerosLike(saved[0]!) };
    })(x) as tf.Tensor2D;
  return {
    name,
    numClasses: base.numClasses,
    inputShape: base.inputShape,
    bounds: base.bounds,
    hasFeatures: false,
    logits,
    forward: (x) => ({ logits: logits(x) }),
    trainableVariables: () => [],
    getWeights: () => base.getWeights(),
    setWeights: (weights) => base.setWeights(weights),
    dispose: () => {},
  };
}
