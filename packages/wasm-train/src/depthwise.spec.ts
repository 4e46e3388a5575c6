import { backend_util } from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { depthwiseSimdPath } from './depthwise.js';
import { expectNoLeak, host, maxRelativeError, numRuns, paddingArb, runKernelOn, type HostTensor } from './spec-support/helpers.js';
import type { ConvCase } from './spec-support/conv-cases.js';

// The SIMD walks apply to multiplier 1 with channel counts divisible by 4; the shared conv specs draw
// 1–6 channels, so this spec draws 4, 8 or 12, with strides 1–2, dilations 1–2, 1–3 taps a side and
// every padding. Against cpu with dilation 1 (cpu's depthwise backprops ignore dilation) and against
// the float64 JS loops with dilation, both within 1e-4 relative.
const caseArb: fc.Arbitrary<ConvCase> = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    height: fc.integer({ min: 3, max: 10 }),
    width: fc.integer({ min: 3, max: 10 }),
    channels: fc.constantFrom(4, 8, 12),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    pad: paddingArb,
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map((r) => ({
    xShape: [r.batch, r.height, r.width, r.channels] as ConvCase['xShape'],
    filterShape: [r.kh, r.kw, r.channels, 1] as ConvCase['filterShape'],
    strides: [r.stride, r.stride] as [number, number],
    dilations: (r.stride > 1 ? [1, 1] : [r.dilation, r.dilation]) as [number, number],
    pad: r.pad,
    seed: r.seed,
  }))
  .filter((c) => {
    const info = backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, c.dilations, c.pad, undefined, true);
    return info.outHeight > 0 && info.outWidth > 0;
  });

function gradient(backend: 'wasm' | 'cpu', which: 'filter' | 'input', c: ConvCase): Promise<HostTensor> {
  const info = backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, c.dilations, c.pad, undefined, true);
  const dy = host(info.outShape, c.seed + 1);
  const attrs = { strides: c.strides, pad: c.pad, dilations: c.dilations };
  if (which === 'filter') {
    return runKernelOn(backend, 'DepthwiseConv2dNativeBackpropFilter', { x: host(c.xShape, c.seed), dy }, { ...attrs, filterShape: c.filterShape });
  }
  return runKernelOn(backend, 'DepthwiseConv2dNativeBackpropInput', { dy, filter: host(c.filterShape, c.seed + 2) }, { ...attrs, inputShape: c.xShape });
}

describe('depthwise gradients on the SIMD walk', () => {
  afterEach(() => {
    depthwiseSimdPath.mode = 'auto';
  });

  for (const which of ['filter', 'input'] as const) {
    it(`${which} gradient matches cpu (dilation 1) and the JS loop (with dilation)`, async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const before = depthwiseSimdPath.taken;
          const ours = await gradient('wasm', which, c);
          // Stride-1 input gradients keep the XNNPACK depthwise convolution unless padding is wide.
          if (which === 'filter' || c.strides[0] > 1) expect(depthwiseSimdPath.taken).toBe(before + 1);
          if (c.dilations[0] === 1) expect(maxRelativeError(ours, await gradient('cpu', which, c))).toBeLessThan(1e-4);
          depthwiseSimdPath.mode = 'never';
          const loop = await gradient('wasm', which, c);
          depthwiseSimdPath.mode = 'auto';
          expect(maxRelativeError(ours, loop)).toBeLessThan(1e-4);
        }),
        { numRuns },
      );
    });
  }

  it('leaves no tensors or buffers behind', async () => {
    const cases = fc.sample(caseArb, { numRuns: 4, seed: 9 });
    await expectNoLeak(async () => {
      for (const c of cases) for (const which of ['filter', 'input'] as const) await gradient('wasm', which, c);
    });
  });
});
