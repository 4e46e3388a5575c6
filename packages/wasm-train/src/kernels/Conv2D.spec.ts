import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { convCaseArb, type ConvCase } from '../spec-support/conv-cases.js';
import { expectNoLeak, host, maxRelativeError, numRuns, runKernelOn } from '../spec-support/helpers.js';

// Conv2D is a forward kernel (replaced only for kh·kw·inC ≤ 32); its gradients are checked by finite
// differences in the backprop specs. Tolerance: |wasm - cpu| / (1 + |cpu|) ≤ 1e-4.

function conv(backend: 'wasm' | 'cpu', c: ConvCase) {
  const x = host(c.xShape, c.seed);
  const filter = host(c.filterShape, c.seed + 2);
  return runKernelOn(backend, 'Conv2D', { x, filter }, { strides: c.strides, pad: c.pad, dilations: c.dilations, dataFormat: 'NHWC' });
}

describe('Conv2D on wasm', () => {
  it('matches the cpu backend on both the im2col and the XNNPACK path', async () => {
    await fc.assert(
      fc.asyncProperty(convCaseArb(), async (c) => {
        expect(maxRelativeError(await conv('wasm', c), await conv('cpu', c))).toBeLessThan(1e-4);
      }),
      { numRuns },
    );
  });

  it('leaves no tensors or backend buffers behind', async () => {
    const c: ConvCase = { xShape: [2, 7, 7, 1], filterShape: [3, 3, 1, 4], strides: [1, 1], dilations: [1, 1], pad: 'same', seed: 3 };
    await conv('wasm', c);
    await expectNoLeak(async () => {
      await conv('wasm', c);
    });
  });
});
