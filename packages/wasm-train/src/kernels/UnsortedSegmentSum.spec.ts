import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import {
  assertCloseDifferences,
  centralDifferences,
  dot,
  expectNoLeak,
  host,
  maxRelativeError,
  numRuns,
  runKernelOn,
  useBackend,
  type HostTensor,
} from '../spec-support/helpers.js';

// Tolerances: ≤ 1e-5 relative to cpu (a handful of float32 additions); finite differences with ε = 1
// (the loss Σ segmentSum(x)·w is linear in x) within 1e-4 relative.

const caseArb = fc.record({
  rows: fc.integer({ min: 1, max: 12 }),
  inner: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 }),
  numSegments: fc.integer({ min: 1, max: 5 }),
  // Out-of-range ids (negative or ≥ numSegments) must be dropped.
  ids: fc.array(fc.integer({ min: -1, max: 6 }), { minLength: 12, maxLength: 12 }),
  dtype: fc.constantFrom<'float32' | 'int32'>('float32', 'int32'),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function inputsOf(c: Case): { x: HostTensor; segmentIds: HostTensor } {
  const x = host([c.rows, ...c.inner], c.seed);
  if (c.dtype === 'int32') x.values = Int32Array.from(x.values, (v) => Math.round(v * 10));
  x.dtype = c.dtype;
  return { x, segmentIds: { shape: [c.rows], values: Int32Array.from(c.ids.slice(0, c.rows)), dtype: 'int32' } };
}

describe('UnsortedSegmentSum on wasm', () => {
  it('matches the cpu backend for float32 and int32', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const attrs = { numSegments: c.numSegments };
        const wasm = await runKernelOn('wasm', 'UnsortedSegmentSum', inputsOf(c), attrs);
        const cpu = await runKernelOn('cpu', 'UnsortedSegmentSum', inputsOf(c), attrs);
        expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-5);
      }),
      { numRuns },
    );
  });

  it('matches central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c0) => {
        const c = { ...c0, dtype: 'float32' as const };
        const { x, segmentIds } = inputsOf(c);
        const attrs = { numSegments: c.numSegments };
        const weights = host([c.numSegments, ...c.inner], c.seed + 3);
        // d/dx Σ segmentSum(x)·w = gather(w, ids), zero for dropped ids.
        const analytic = new Float32Array(x.values.length);
        const inner = x.values.length / c.rows;
        for (let i = 0; i < c.rows; i++) {
          const id = segmentIds.values[i]!;
          if (id >= 0 && id < c.numSegments) analytic.set(weights.values.subarray(id * inner, (id + 1) * inner), i * inner);
        }
        const loss = async (values: Float32Array) =>
          dot((await runKernelOn('wasm', 'UnsortedSegmentSum', { x: { ...x, values }, segmentIds }, attrs)).values, weights.values);
        const checks = await centralDifferences(x.values as Float32Array, analytic, loss, { epsilon: 1, samples: 3, seed: c.seed });
        assertCloseDifferences(checks, 1e-4);
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('makes the gradient of gather work on wasm, without leaks', async () => {
    await useBackend('wasm');
    const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const indices = tf.tensor1d([2, 0, 2], 'int32');
    const gatherGrad = tf.grad((t: tf.Tensor) => tf.gather(t, indices).sum());
    tf.dispose(gatherGrad(table));
    await expectNoLeak(async () => {
      const grad = gatherGrad(table);
      expect(Array.from(await grad.data())).toEqual([1, 1, 0, 0, 2, 2]);
      grad.dispose();
    });
    tf.dispose([table, indices]);
  });
});
