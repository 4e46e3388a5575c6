// Shared by the kernel specs: run a kernel on a named backend from plain arrays, compare, finite differences.
import '../index.js';
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import fc from 'fast-check';

export interface HostTensor {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
}

export type BackendName = 'wasm' | 'cpu';

/** Deterministic standard-normal-ish values from a seed (spec inputs must be reproducible from fast-check's seed). */
export function randomValues(size: number, seed: number): Float32Array {
  let state = (seed >>> 0) || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (next() + next() + next() - 1.5) * 2;
  return out;
}

export function host(shape: number[], seed: number): HostTensor {
  return { shape, values: randomValues(shape.reduce((a, b) => a * b, 1), seed) };
}

/** Switches the engine to `backend`, failing loudly (tf.setBackend only returns false). */
export async function useBackend(backend: BackendName): Promise<void> {
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
    throw new Error(`could not switch to the ${backend} backend`);
  }
}

/** Runs one kernel on `backend` and returns its (first) output as a host array, disposing everything. */
export async function runKernelOn(
  backend: BackendName,
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: NamedAttrMap,
): Promise<HostTensor> {
  await useBackend(backend);
  const tensors = Object.fromEntries(
    Object.entries(inputs).map(([name, t]) => [name, tf.tensor(t.values, t.shape, t.dtype ?? 'float32')]),
  );
  const result = tf.engine().runKernel(kernelName, tensors, attrs) as tf.Tensor | tf.Tensor[];
  const out = Array.isArray(result) ? result[0]! : result;
  const values = out.dataSync() as Float32Array;
  const shape = out.shape;
  tf.dispose([result, ...Object.values(tensors)] as tf.Tensor[]);
  return { shape, values: values.slice() };
}

/** Largest |a - b| / (1 + |b|) over all elements; shapes must match. */
export function maxRelativeError(actual: HostTensor, expected: HostTensor): number {
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`shape mismatch: ${actual.shape} vs ${expected.shape}`);
  }
  let worst = 0;
  for (let i = 0; i < expected.values.length; i++) {
    const e = expected.values[i]!;
    worst = Math.max(worst, Math.abs(actual.values[i]! - e) / (1 + Math.abs(e)));
  }
  return worst;
}

/** Σ a·b in float64, so finite differences are not swamped by float32 summation error. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i]! * b[i]!;
  return total;
}

/**
 * Central finite differences of `loss` with respect to a few coordinates of `x`: returns
 * `[index, numeric, analytic]` triples. `loss` is evaluated on the wasm backend by the caller.
 */
export async function centralDifferences(
  x: Float32Array,
  analytic: ArrayLike<number>,
  loss: (perturbed: Float32Array) => Promise<number>,
  options: { epsilon: number; samples: number; seed: number },
): Promise<Array<[number, number, number]>> {
  const checks: Array<[number, number, number]> = [];
  const picks = randomValues(options.samples, options.seed);
  for (let s = 0; s < options.samples; s++) {
    const index = Math.floor(Math.abs(picks[s]! * 7919)) % x.length;
    const plus = x.slice();
    plus[index] = plus[index]! + options.epsilon;
    const minus = x.slice();
    minus[index] = minus[index]! - options.epsilon;
    const numeric = ((await loss(plus)) - (await loss(minus))) / (2 * options.epsilon);
    checks.push([index, numeric, analytic[index]!]);
  }
  return checks;
}

/** Asserts every finite-difference triple agrees within `tolerance` relative to (1 + |numeric|). */
export function assertCloseDifferences(checks: Array<[number, number, number]>, tolerance: number): void {
  for (const [index, numeric, analytic] of checks) {
    if (Math.abs(numeric - analytic) > tolerance * (1 + Math.abs(numeric))) {
      throw new Error(`finite difference at ${index}: numeric ${numeric}, analytic ${analytic}`);
    }
  }
}

/**
 * Runs `body` and asserts the engine holds as many tensors afterwards as before (no kernel or gradient
 * leaks). Also checks the wasm backend's own buffer count, which sees kernel-internal intermediates.
 */
export async function expectNoLeak(body: () => Promise<void> | void): Promise<void> {
  const tensorsBefore = tf.memory().numTensors;
  const buffersBefore = tf.backend().numDataIds();
  await body();
  const tensorsAfter = tf.memory().numTensors;
  const buffersAfter = tf.backend().numDataIds();
  if (tensorsAfter !== tensorsBefore || buffersAfter !== buffersBefore) {
    throw new Error(`leak: tensors ${tensorsBefore} → ${tensorsAfter}, backend buffers ${buffersBefore} → ${buffersAfter}`);
  }
}

/** Padding choices the convolution specs draw from: the two names plus explicit pads. */
export const paddingArb = fc.oneof(
  fc.constant<'same'>('same'),
  fc.constant<'valid'>('valid'),
  fc
    .tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2))
    .map(([t, b, l, r]) => [[0, 0], [t, b], [l, r], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]),
);

export const numRuns = Number(process.env.WASM_TRAIN_SPEC_RUNS ?? 25);
