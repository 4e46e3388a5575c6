import { describe, expect, it } from 'vitest';
import { backend_util } from '@tensorflow/tfjs';
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
  type HostTensor,
} from '../spec-support/helpers.js';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../index.js';

// Tolerances: routing is exact, so ≤ 1e-6 relative to cpu; finite
// differences with ε = 1e-3 (max-pool is piecewise linear; inputs are continuous random values, so a
// tie or a switch of maximum inside ±ε is vanishingly rare) within 1e-2 relative.

const caseArb = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    size: fc.integer({ min: 2, max: 9 }),
    channels: fc.integer({ min: 1, max: 5 }),
    filter: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 3 }),
    pad: fc.oneof(fc.constant<'same'>('same'), fc.constant<'valid'>('valid')),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .filter((c) => c.filter <= c.size);

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

async function poolCase(c: Case, values?: Float32Array) {
  const input: HostTensor = host([c.batch, c.size, c.size, c.channels], c.seed);
  if (values) input.values = values;
  const attrs = { filterSize: c.filter, strides: c.stride, pad: c.pad };
  const output = await runKernelOn('wasm', 'MaxPool', { x: input }, attrs);
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], c.filter, c.stride, 1, c.pad);
  return { input, output, attrs, dy: host(info.outShape, c.seed + 1) };
}

async function grad(backend: 'wasm' | 'cpu', c: Case, values?: Float32Array) {
  const { input, output, attrs, dy } = await poolCase(c, values);
  return runKernelOn(backend, 'MaxPoolGrad', { dy, input, output }, attrs);
}

/**
 * Distinct values at least 2/n apart, in a seeded order. Max pooling is not differentiable where
 * two window entries tie, so central differences (step 1e-3) are only valid away from near-ties;
 * random floats put two entries within 1e-3 of each other often enough to fail one run in many.
 */
function wellSeparated(size: number, seed: number): Float32Array {
  const order = Array.from({ length: size }, (_, i) => i);
  let state = seed >>> 0 || 1;
  for (let i = size - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return Float32Array.from(order, (k) => (2 * k) / size - 1);
}

describe('MaxPoolGrad on wasm', () => {
  it('matches the cpu backend', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        expect(maxRelativeError(await grad('wasm', c), await grad('cpu', c))).toBeLessThan(1e-6);
      }),
      { numRuns },
    );
  });

  it('routes gradients to negative maxima, which the stock wasm kernel drops', async () => {
    const input = { shape: [1, 2, 2, 1], values: new Float32Array([0.3, -1.2, 0.5, -0.1]) };
    const dy = { shape: [1, 2, 2, 1], values: new Float32Array([10, 20, 30, 40]) };
    const attrs = { filterSize: 1, strides: 1, pad: 'same' as const };
    const inputs = { dy, input, output: input };
    expect(Array.from((await runKernelOn('wasm', 'MaxPoolGrad', inputs, attrs)).values)).toEqual([10, 20, 30, 40]);
    unregisterWasmTrainingKernels();
    try {
      expect(Array.from((await runKernelOn('wasm', 'MaxPoolGrad', inputs, attrs)).values)).toEqual([10, 0, 30, 0]);
    } finally {
      registerWasmTrainingKernels();
    }
  });

  it('takes the first maximum on the 2x2 stride-2 fast path, with ties (ReLU zeros) and NaNs, on odd sizes', async () => {
    // 5x5 'valid' leaves the last row and column outside every window; their gradient must stay zero.
    for (const seed of [1, 2, 3]) {
      const c: Case = { batch: 2, size: 5, channels: 3, filter: 2, stride: 2, pad: 'valid', seed };
      const values = host([2, 5, 5, 3], seed).values as Float32Array;
      // Quantised ReLU-like values: many windows tie, several at zero; a few NaNs.
      const tied = values.map((v, i) => (i % 17 === 5 ? Number.NaN : Math.max(0, Math.round(v * 2) / 2)));
      const { input, output, attrs, dy } = await poolCase(c, tied);
      const inputs = { dy, input: { ...input, values: tied }, output };
      const wasm = await runKernelOn('wasm', 'MaxPoolGrad', inputs, attrs);
      const cpu = await runKernelOn('cpu', 'MaxPoolGrad', inputs, attrs);
      expect(Array.from(wasm.values)).toEqual(Array.from(cpu.values));
    }
  });

  it('matches central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const separated = wellSeparated(c.batch * c.size * c.size * c.channels, c.seed);
        const { input, dy } = await poolCase(c, separated);
        const analytic = await grad('wasm', c, separated);
        const loss = async (values: Float32Array) => dot((await poolCase(c, values)).output.values, dy.values);
        const checks = await centralDifferences(input.values as Float32Array, analytic.values, loss, { epsilon: 1e-3, samples: 4, seed: c.seed });
        assertCloseDifferences(checks, 1e-2);
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('leaves no tensors or backend buffers behind', async () => {
    const c: Case = { batch: 2, size: 6, channels: 3, filter: 2, stride: 2, pad: 'valid', seed: 9 };
    await grad('wasm', c);
    await expectNoLeak(async () => {
      await grad('wasm', c);
    });
  });
});
