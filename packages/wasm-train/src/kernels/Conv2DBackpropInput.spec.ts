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

// Tolerances: |wasm - cpu| / (1 + |cpu|) ≤ 1e-4; finite differences with ε = 1 (the loss Σ conv(x, W)·dy
// is linear in x, so central differences are exact up to rounding) within 1e-3 relative.

function inputGrad(backend: 'wasm' | 'cpu', c: ConvCase) {
  const dy = host(outShapeOf(c), c.seed + 1);
  const filter = host(c.filterShape, c.seed + 2);
  return runKernelOn(backend, 'Conv2DBackpropInput', { dy, filter }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat: 'NHWC',
    inputShape: c.xShape,
    dilations: c.dilations,
  });
}

describe('Conv2DBackpropInput on wasm', () => {
  it('matches the cpu backend', async () => {
    await fc.assert(
      fc.asyncProperty(convCaseArb({ dilation: false }), async (c) => {
        const [wasm, cpu] = [await inputGrad('wasm', c), await inputGrad('cpu', c)];
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
        const grad = await inputGrad('wasm', c);
        const loss = async (values: Float32Array) => {
          const y = await runKernelOn('wasm', 'Conv2D', { x: { shape: c.xShape, values }, filter }, {
            strides: c.strides, pad: c.pad, dilations: c.dilations, dataFormat: 'NHWC',
          });
          return dot(y.values, dy.values);
        };
        const checks = await centralDifferences(x.values as Float32Array, grad.values, loss, { epsilon: 1, samples: 4, seed: c.seed });
        assertCloseDifferences(checks, 1e-3);
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('agrees with the stock kernel it replaces', async () => {
    const { unregisterWasmTrainingKernels, registerWasmTrainingKernels } = await import('../index.js');
    await fc.assert(
      fc.asyncProperty(convCaseArb({ dilation: false }), async (c) => {
        const ours = await inputGrad('wasm', c);
        unregisterWasmTrainingKernels();
        try {
          const stock = await inputGrad('wasm', c);
          expect(maxRelativeError(ours, stock)).toBeLessThan(1e-4);
        } finally {
          registerWasmTrainingKernels();
        }
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('leaves no tensors or backend buffers behind', async () => {
    const c = fc.sample(convCaseArb(), { numRuns: 1, seed: 7 })[0]!;
    await inputGrad('wasm', c);
    await expectNoLeak(async () => {
      await inputGrad('wasm', c);
      await inputGrad('wasm', { ...c, xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [2, 2], dilations: [1, 1], pad: 'same' });
      await inputGrad('wasm', { ...c, xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid' });
    });
  });
});
