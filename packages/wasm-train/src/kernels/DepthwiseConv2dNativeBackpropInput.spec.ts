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

// Tolerances: |wasm - cpu| / (1 + |cpu|) ≤ 1e-4, dilation 1 only (the cpu backprop kernels ignore
// dilation in their index arithmetic). Finite differences (with dilation) differentiate the cpu forward
// kernel: stock wasm DepthwiseConv2dNative returns zeros for some shapes (e.g. a 1x2 filter, stride 2,
// 'same'); ε = 1 (the loss is linear in the differentiated argument), within 1e-3 relative.

function depthwiseInputGrad(backend: 'wasm' | 'cpu', c: ConvCase) {
  const filter = host(c.filterShape, c.seed + 2);
  const dy = host(outShapeOf(c, true), c.seed + 1);
  return runKernelOn(backend, 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, {
    strides: c.strides,
    dilations: c.dilations,
    pad: c.pad,
    inputShape: c.xShape,
  });
}

describe('DepthwiseConv2dNativeBackpropInput on wasm', () => {
  it('matches the cpu backend', async () => {
    await fc.assert(
      fc.asyncProperty(convCaseArb({ depthwise: true, dilation: false }), async (c) => {
        expect(maxRelativeError(await depthwiseInputGrad('wasm', c), await depthwiseInputGrad('cpu', c))).toBeLessThan(1e-4);
      }),
      { numRuns },
    );
  });

  it('matches central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(convCaseArb({ depthwise: true }), async (c) => {
        const x = host(c.xShape, c.seed);
        const dy = host(outShapeOf(c, true), c.seed + 1);
        const filter = host(c.filterShape, c.seed + 2);
        const grad = await depthwiseInputGrad('wasm', c);
        const loss = async (w: Float32Array) => {
          const y = await runKernelOn('cpu', 'DepthwiseConv2dNative', { x: { shape: c.xShape, values: w }, filter }, {
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

  it('leaves no tensors or backend buffers behind', async () => {
    const c = fc.sample(convCaseArb({ depthwise: true }), { numRuns: 1, seed: 5 })[0]!;
    await depthwiseInputGrad('wasm', c);
    await expectNoLeak(async () => {
      await depthwiseInputGrad('wasm', c);
    });
  });
});
