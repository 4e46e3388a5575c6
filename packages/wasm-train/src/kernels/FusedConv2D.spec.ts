import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, host, maxRelativeError, numRuns, paddingArb, runKernelOn, type HostTensor } from '../spec-support/helpers.js';
import { winogradPath } from '../winograd.js';

interface FusedCase {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  activation: 'linear' | 'relu' | 'relu6' | 'elu';
  bias: boolean;
  seed: number;
}

// 3x3 stride-1 cases with channels divisible by 4 take the Winograd path with the bias and clamp in its
// output transform; stride 2, 5 channels and ELU go to the stock kernel. Values are scaled by 3 so that
// ReLU6 clamps some of them.
const fusedCaseArb: fc.Arbitrary<FusedCase> = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    size: fc.integer({ min: 3, max: 9 }),
    inChannels: fc.constantFrom(4, 8, 5),
    outChannels: fc.constantFrom(4, 8),
    strides: fc.constantFrom(1, 1, 2),
    pad: paddingArb,
    activation: fc.constantFrom('linear', 'relu', 'relu6', 'elu'),
    bias: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map((r) => ({
    xShape: [r.batch, r.size, r.size + 1, r.inChannels] as FusedCase['xShape'],
    filterShape: [3, 3, r.inChannels, r.outChannels] as FusedCase['filterShape'],
    strides: r.strides,
    pad: r.pad as FusedCase['pad'],
    activation: r.activation as FusedCase['activation'],
    bias: r.bias,
    seed: r.seed,
  }))
  .filter((c) => {
    const info = tf.backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, 1, c.pad);
    return info.outHeight > 0 && info.outWidth > 0;
  });

function scaled(t: HostTensor): HostTensor {
  return { ...t, values: (t.values as Float32Array).map((v) => 3 * v) };
}

function run(backend: 'wasm' | 'cpu', c: FusedCase): Promise<HostTensor> {
  const inputs: Record<string, HostTensor> = { x: scaled(host(c.xShape, c.seed)), filter: host(c.filterShape, c.seed + 1) };
  if (c.bias) inputs.bias = scaled(host([c.filterShape[3]], c.seed + 2));
  return runKernelOn(backend, 'FusedConv2D', inputs, {
    strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, activation: c.activation,
  });
}

describe('FusedConv2D on wasm', () => {
  it('matches the cpu backend (Winograd with bias and clamp, or stock)', async () => {
    let winograd = 0;
    await fc.assert(
      fc.asyncProperty(fusedCaseArb, async (c) => {
        const before = winogradPath.taken;
        const ours = await run('wasm', c);
        winograd += winogradPath.taken - before;
        expect(maxRelativeError(ours, await run('cpu', c))).toBeLessThan(1e-4);
      }),
      { numRuns: 2 * numRuns },
    );
    expect(winograd).toBeGreaterThan(0);
  });

  it('leaves no tensors or buffers behind', async () => {
    const cases = fc.sample(fusedCaseArb, { numRuns: 6, seed: 5 });
    await expectNoLeak(async () => {
      for (const c of cases) await run('wasm', c);
    });
  });
});
