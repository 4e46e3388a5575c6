import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { convCaseArb, outShapeOf, type ConvCase } from '../spec-support/conv-cases.js';
import {
  assertCloseDifferences,
  centralDifferences,
  dot,
  expectNoLeak,
  host,
  maxRelativeError,
  numRuns,
  runKernelOn,
} from '../spec-support/helpers.js';

// Tolerances: |wasm - cpu| / (1 + |cpu|) ≤ 1e-4 (float32 sums of at most a few hundred products);
// finite differences use ε = 1 because the loss Σ conv(x, W)·dy is linear in W (exact up to rounding),
// and must agree within 1e-3 relative.

function filterGrad(backend: 'wasm' | 'cpu', c: ConvCase) {
  const x = host(c.xShape, c.seed);
  const dy = host(outShapeOf(c), c.seed + 1);
  return runKernelOn(backend, 'Conv2DBackpropFilter', { x, dy }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat: 'NHWC',
    filterShape: c.filterShape,
    dilations: c.dilations,
  });
}

describe('Conv2DBackpropFilter on wasm', () => {
  it('matches the cpu backend', async () => {
    await fc.assert(
      fc.asyncProperty(convCaseArb({ dilation: false }), async (c) => {
        const [wasm, cpu] = [await filterGrad('wasm', c), await filterGrad('cpu', c)];
        expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-4);
      }),
      { numRuns },
    );
  });

  it('matches central finite differences, with dilation', async () => {
    await fc.assert(
      fc.asyncProperty(convCaseArb(), async (c) => {
        const x = host(c.xShape, c.seed);
        const dy = host(outShapeOf(c), c.seed + 1);
        const filter = host(c.filterShape, c.seed + 2);
        const grad = await filterGrad('wasm', c);
        const loss = async (w: Float32Array) => {
          const y = await runKernelOn('wasm', 'Conv2D', { x, filter: { shape: c.filterShape, values: w } }, {
            strides: c.strides, pad: c.pad, dilations: c.dilations, dataFormat: 'NHWC',
          });
          return dot(y.values, dy.values);
        };
        const checks = await centralDifferences(filter.values as Float32Array, grad.values, loss, { epsilon: 1, samples: 4, seed: c.seed });
        assertCloseDifferences(checks, 1e-3);
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('leaves no tensors or backend buffers behind', async () => {
    const c = fc.sample(convCaseArb(), { numRuns: 1, seed: 7 })[0]!;
    await filterGrad('wasm', c);
    await expectNoLeak(async () => {
      await filterGrad('wasm', c);
      await filterGrad('wasm', { ...c, xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid' });
    });
  });
});
