import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { outShapeOf, type ConvCase } from './spec-support/conv-cases.js';
import {
  assertCloseDifferences,
  centralDifferences,
  dot,
  expectNoLeak,
  host,
  maxRelativeError,
  numRuns,
  paddingArb,
  runKernelOn,
  useBackend,
  type HostTensor,
} from './spec-support/helpers.js';
import { simdKernels, simdOptions } from './simd/simd.js';
import { winogradPath } from './winograd.js';

// Winograd F(2x2,3x3) applies to 3x3, stride-1, undilated convolutions with channel counts divisible by 4:
// draw exactly those, with odd and even sizes (partial edge tiles), every padding the specs use, and
// enough images that a small chunk size splits the batch unevenly.
const winogradCaseArb: fc.Arbitrary<ConvCase> = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    height: fc.integer({ min: 3, max: 11 }),
    width: fc.integer({ min: 3, max: 11 }),
    inChannels: fc.constantFrom(4, 8, 12),
    outChannels: fc.constantFrom(4, 8, 12, 16),
    pad: paddingArb,
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map((r) => ({
    xShape: [r.batch, r.height, r.width, r.inChannels] as ConvCase['xShape'],
    filterShape: [3, 3, r.inChannels, r.outChannels] as ConvCase['filterShape'],
    strides: [1, 1] as [number, number],
    dilations: [1, 1] as [number, number],
    pad: r.pad,
    seed: r.seed,
  }))
  .filter((c) => outShapeOf(c)[1] > 0 && outShapeOf(c)[2] > 0);

type Pass = 'forward' | 'input' | 'filter';

function inputsOf(c: ConvCase) {
  return { x: host(c.xShape, c.seed), filter: host(c.filterShape, c.seed + 1), dy: host(outShapeOf(c), c.seed + 2) };
}

function run(backend: 'wasm' | 'cpu', pass: Pass, c: ConvCase, over: Partial<Record<'x' | 'filter', HostTensor>> = {}) {
  const { x, filter, dy } = { ...inputsOf(c), ...over };
  const attrs = { strides: c.strides, pad: c.pad, dilations: c.dilations, dataFormat: 'NHWC' };
  if (pass === 'forward') return runKernelOn(backend, 'Conv2D', { x, filter }, attrs);
  if (pass === 'input') return runKernelOn(backend, 'Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: c.xShape });
  return runKernelOn(backend, 'Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.filterShape });
}

/** Runs `body` with the given SIMD build and chunk size, restoring the defaults after. */
async function withSettings(build: 'auto' | 'plain', chunkFloats: number, body: () => Promise<void>): Promise<void> {
  const saved = { build: simdOptions.build, chunkFloats: winogradPath.chunkFloats };
  simdOptions.build = build;
  winogradPath.chunkFloats = chunkFloats;
  try {
    await body();
  } finally {
    simdOptions.build = saved.build;
    winogradPath.chunkFloats = saved.chunkFloats;
  }
}

// float32 Winograd adds rounding from the transforms (coefficients 0, ±½, ±1): ≤ 1e-4 relative to cpu
// for these sums of ≤ 108 products, as for the other kernels. Finite differences use ε = 1 on the linear
// loss Σ conv·dy (exact up to rounding), within 1e-3.
describe('Winograd F(2x2,3x3) convolutions on wasm', () => {
  afterEach(() => {
    winogradPath.mode = 'auto';
  });

  it('has SIMD kernels on this engine (Node ≥ 16), preferring relaxed SIMD', async () => {
    await useBackend('wasm');
    const kernels = simdKernels(tf.backend() as BackendWasm);
    expect(kernels).not.toBeNull();
    expect(kernels!.relaxed).toBe(true);
  });

  for (const build of ['auto', 'plain'] as const) {
    for (const pass of ['forward', 'input', 'filter'] as const) {
      it(`${pass} pass (${build === 'auto' ? 'relaxed' : 'plain'} SIMD) matches the cpu backend, in one chunk and in many`, async () => {
        await fc.assert(
          fc.asyncProperty(winogradCaseArb, fc.constantFrom(1 << 16, 64), async (c, chunkFloats) => {
            await withSettings(build, chunkFloats, async () => {
              const before = winogradPath.taken;
              const ours = await run('wasm', pass, c);
              expect(winogradPath.taken).toBe(before + 1);
              expect(maxRelativeError(ours, await run('cpu', pass, c))).toBeLessThan(1e-4);
            });
          }),
          { numRuns },
        );
      });
    }
  }

  for (const pass of ['input', 'filter'] as const) {
    it(`${pass} gradient matches central finite differences of the Winograd forward pass`, async () => {
      await fc.assert(
        fc.asyncProperty(winogradCaseArb, async (c) => {
          const { x, filter, dy } = inputsOf(c);
          const analytic = await run('wasm', pass, c);
          const varied = pass === 'input' ? x : filter;
          const loss = async (values: Float32Array) => {
            const y = await run('wasm', 'forward', c, pass === 'input' ? { x: { ...x, values } } : { filter: { ...filter, values } });
            return dot(y.values, dy.values);
          };
          const checks = await centralDifferences(varied.values as Float32Array, analytic.values, loss, { epsilon: 1, samples: 4, seed: c.seed });
          assertCloseDifferences(checks, 1e-3);
        }),
        { numRuns: Math.ceil(numRuns / 2) },
      );
    });
  }

  // Both sides round differently over sums of up to 2,304 products (the filter gradient), so this
  // comparison allows 3e-4 relative.
  it('agrees with the XNNPACK paths it bypasses, on the Papernot conv2 shape', async () => {
    const c: ConvCase = { xShape: [4, 26, 26, 32], filterShape: [3, 3, 32, 32], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 9 };
    for (const pass of ['forward', 'input', 'filter'] as const) {
      const ours = await run('wasm', pass, c);
      winogradPath.mode = 'never';
      const xnnpack = await run('wasm', pass, c);
      winogradPath.mode = 'auto';
      expect(maxRelativeError(ours, xnnpack)).toBeLessThan(3e-4);
    }
  });

  it('frees its heap scratch and leaves no tensors or buffers behind', async () => {
    await useBackend('wasm');
    const wasm = (tf.backend() as BackendWasm).wasm as unknown as { _malloc(n: number): number; _free(p: number): void };
    const cases = fc.sample(winogradCaseArb, { numRuns: 4, seed: 3 });
    const live = new Set<number>();
    const { _malloc: malloc, _free: free } = wasm;
    wasm._malloc = (n) => {
      const p = malloc(n);
      live.add(p);
      return p;
    };
    wasm._free = (p) => {
      live.delete(p);
      free(p);
    };
    try {
      await withSettings('auto', 64, async () => {
        await expectNoLeak(async () => {
          for (const c of cases) for (const pass of ['forward', 'input', 'filter'] as const) await run('wasm', pass, c);
        });
      });
    } finally {
      wasm._malloc = malloc;
      wasm._free = free;
    }
    // Every tensor made during the calls was disposed, so every block allocated then was freed too.
    expect(live.size).toBe(0);
  });
});
