// Spec-only fixtures (excluded from the build): small models with known geometry.
import * as tf from '@tensorflow/tfjs';
import { LayersStudent, Rng, type Model } from '@tempered/core';
import { toModel } from './model-like.js';

/** logits = x·Wᵀ + b with W [classes × d]; tensors are rebuilt per call so nothing outlives a tidy. */
export function linearModel(weights: number[][], bias: number[], scale = 1, inputShape?: number[]): Model {
  const classes = weights.length;
  const d = weights[0]!.length;
  const wT = Float32Array.from({ length: d * classes }, (_, k) => weights[k % classes]![Math.floor(k / classes)]! * scale);
  const b = Float32Array.from(bias, (v) => v * scale);
  return toModel(
    (x) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [-1, d]), tf.tensor2d(wT, [d, classes])), tf.tensor1d(b)) as tf.Tensor2D),
    { numClasses: classes, inputShape: inputShape ?? [d], name: 'linear' },
  );
}

/** A one-hidden-layer tanh MLP with random weights (smooth, so finite differences are clean). */
export function randomMlp(seed: number, d: number, hidden: number, classes: number, scale = 1): Model {
  const rng = new Rng(seed);
  const w1 = Float32Array.from(rng.normalArray(d * hidden), (v) => (v * 2) / Math.sqrt(d));
  const b1 = Float32Array.from(rng.normalArray(hidden), (v) => v * 0.5);
  const w2 = Float32Array.from(rng.normalArray(hidden * classes), (v) => (v * 2 * scale) / Math.sqrt(hidden));
  const b2 = Float32Array.from(rng.normalArray(classes), (v) => v * 0.1 * scale);
  return toModel(
    (x) =>
      tf.tidy(() => {
        const h = tf.tanh(tf.add(tf.matMul(tf.reshape(x, [-1, d]), tf.tensor2d(w1, [d, hidden])), tf.tensor1d(b1)));
        return tf.add(tf.matMul(h, tf.tensor2d(w2, [hidden, classes])), tf.tensor1d(b2)) as tf.Tensor2D;
      }),
    { numClasses: classes, inputShape: [d], name: 'mlp' },
  );
}

/** A tiny CNN (3×3 conv, 2 filters, then dense) over 6×6×1 inputs, seeded. Caller disposes. */
export function tinyCnn(seed: number, classes = 3): LayersStudent {
  const model = tf.sequential({
    name: 'tiny-cnn',
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  return new LayersStudent(model);
}

/** Uniform inputs in [low, high) of shape [batch, d] from a seed. */
export function uniformInputs(seed: number, batch: number, d: number, low = 0, high = 1): tf.Tensor2D {
  return tf.tensor2d(new Rng(seed).uniformArray(batch * d, low, high), [batch, d]);
}

/** Argmax predictions of a model on x. */
export function predict(model: Model, x: tf.Tensor): Int32Array {
  return tf.tidy(() => tf.argMax(model.logits(x), 1).dataSync() as Int32Array);
}

/** A random two-class linear problem with inputs in [0.3, 0.7] and per-example L∞ thresholds. */
export function linearProblem(seed: number, D = 8, BATCH = 12) {
  const rng = new Rng(seed);
  const weights = [Array.from(rng.normalArray(D)), Array.from(rng.normalArray(D))];
  const bias = [rng.normal() * 0.2, rng.normal() * 0.2];
  const model = linearModel(weights, bias);
  const xs = rng.uniformArray(BATCH * D, 0.3, 0.7);
  const deltaW = weights[1]!.map((w, j) => w - weights[0]![j]!);
  const l1 = deltaW.reduce((s, v) => s + Math.abs(v), 0);
  const l2 = Math.sqrt(deltaW.reduce((s, v) => s + v * v, 0));
  const labels: number[] = [];
  const margins: number[] = [];
  for (let i = 0; i < BATCH; i++) {
    let diff = bias[1]! - bias[0]!;
    for (let j = 0; j < D; j++) diff += deltaW[j]! * xs[i * D + j]!;
    labels.push(diff > 0 ? 1 : 0);
    margins.push(Math.abs(diff));
  }
  return { model, xs, labels, margins, l1, l2 };
}


/**
 * A random multi-class linear problem with inputs in [0.3, 0.7]. For a linear model the smallest
 * perturbation that changes the prediction is known in closed form: the distance to the nearest
 * of the half-spaces {Z_j ≥ Z_y}, min_{j≠y} (Z_y − Z_j)/‖w_y − w_j‖_q with q the dual norm (ℓ1 for
 * L∞, ℓ2 for L2). The bounds do not bind while ε < 0.3.
 */
export function linearMulticlass(seed: number, classes: number, d: number, batch: number, inputShape?: number[]) {
  const rng = new Rng(seed);
  const weights = Array.from({ length: classes }, () => Array.from(rng.normalArray(d)));
  const bias = Array.from({ length: classes }, () => rng.normal() * 0.2);
  const model = linearModel(weights, bias, 1, inputShape);
  const xs = rng.uniformArray(batch * d, 0.3, 0.7);
  const labels: number[] = [];
  const linf: number[] = [];
  const l2: number[] = [];
  for (let i = 0; i < batch; i++) {
    const z = weights.map((w, c) => bias[c]! + w.reduce((s, v, j) => s + v * xs[i * d + j]!, 0));
    const y = z.indexOf(Math.max(...z));
    labels.push(y);
    let bestLinf = Infinity;
    let bestL2 = Infinity;
    for (let c = 0; c < classes; c++) {
      if (c === y) continue;
      const diff = weights[y]!.map((v, j) => v - weights[c]![j]!);
      const margin = z[y]! - z[c]!;
      bestLinf = Math.min(bestLinf, margin / diff.reduce((s, v) => s + Math.abs(v), 0));
      bestL2 = Math.min(bestL2, margin / Math.sqrt(diff.reduce((s, v) => s + v * v, 0)));
    }
    linf.push(bestLinf);
    l2.push(bestL2);
  }
  return { model, xs, labels, linf, l2 };
}

/** The same logits with the input gradient zeroed (a stop-gradient wrapper, like a masked defence). */
export function zeroGradient(model: Model): Model {
  const blocked = tf.customGrad((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return { value: model.logits(x), gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => tf.zerosLike(saved[0]!) };
  });
  return toModel((x) => blocked(x) as tf.Tensor2D, { numClasses: model.numClasses, inputShape: [...model.inputShape], bounds: model.bounds, name: `${model.name}-zero-gradient` });
}
