// One spec body for the four convolution-gradient kernels: they differ only in kernel names, which
// argument is differentiated, and whether the convolution is depthwise.
import { describe, expect, it } from 'vitest';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import fc from 'fast-check';
import { convCaseArb, outShapeOf, type ConvCase } from './conv-cases.js';
import {
  assertCloseDifferences,
  centralDifferences,
  dot,
  expectNoLeak,
  host,
  maxRelativeError,
  numRuns,
  runKernelOn,
  type BackendName,
  type HostTensor,
} from './helpers.js';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../index.js';

export interface ConvGradientSpec {
  /** The gradient kernel under test, e.g. `Conv2DBackpropFilter`. */
  kernelName: string;
  /** The forward kernel whose loss `Σ forward(x, W)·dy` is differentiated. */
  forwardKernelName: 'Conv2D' | 'DepthwiseConv2dNative';
  /** Which forward argument the kernel differentiates. */
  withRespectTo: 'x' | 'filter';
  depthwise: boolean;
  /** Backend that evaluates the forward kernel for finite differences (stock wasm depthwise is wrong for some shapes). */
  forwardBackend: BackendName;
  /** Also compare with the stock wasm kernel this package replaces. */
  comparesWithStock?: boolean;
  /** Shapes outside the small random range that take other code paths, for the leak check. */
  leakCases: ConvCase[];
}

// Tolerances: |wasm - cpu| / (1 + |cpu|) ≤ 1e-4 (float32 sums of at most a few hundred products),
// dilation 1 only: the cpu backprop kernels ignore dilation. Finite differences (with dilation) use
// ε = 1, because the loss Σ forward(x, W)·dy is linear in the differentiated argument (exact up to
// rounding), and must agree within 1e-3 relative.
const cpuTolerance = 1e-4;
const differenceTolerance = 1e-3;

function inputsOf(c: ConvCase, depthwise: boolean) {
  return {
    x: host(c.xShape, c.seed),
    dy: host(outShapeOf(c, depthwise), c.seed + 1),
    filter: host(c.filterShape, c.seed + 2),
  };
}

function gradient(spec: ConvGradientSpec, backend: BackendName, c: ConvCase): Promise<HostTensor> {
  const { x, dy, filter } = inputsOf(c, spec.depthwise);
  const attrs: NamedAttrMap = { strides: c.strides, pad: c.pad, dilations: c.dilations };
  if (!spec.depthwise) attrs.dataFormat = 'NHWC';
  if (spec.withRespectTo === 'filter') {
    return runKernelOn(backend, spec.kernelName, { x, dy }, { ...attrs, filterShape: c.filterShape });
  }
  return runKernelOn(backend, spec.kernelName, { dy, filter }, { ...attrs, inputShape: c.xShape });
}

/** Declares the cpu, finite-difference, (stock) and leak specs for one convolution-gradient kernel. */
export function describeConvGradient(spec: ConvGradientSpec): void {
  const { depthwise } = spec;
  describe(`${spec.kernelName} on wasm`, () => {
    it('matches the cpu backend', async () => {
      await fc.assert(
        fc.asyncProperty(convCaseArb({ depthwise, dilation: false }), async (c) => {
          const wasm = await gradient(spec, 'wasm', c);
          expect(maxRelativeError(wasm, await gradient(spec, 'cpu', c))).toBeLessThan(cpuTolerance);
        }),
        { numRuns },
      );
    });

    it('matches central finite differences, with dilation', async () => {
      await fc.assert(
        fc.asyncProperty(convCaseArb({ depthwise }), async (c) => {
          const { x, dy, filter } = inputsOf(c, depthwise);
          const analytic = await gradient(spec, 'wasm', c);
          const varied = spec.withRespectTo === 'x' ? x : filter;
          const loss = async (values: Float32Array) => {
            const inputs = spec.withRespectTo === 'x' ? { x: { ...x, values }, filter } : { x, filter: { ...filter, values } };
            const y = await runKernelOn(spec.forwardBackend, spec.forwardKernelName, inputs, {
              strides: c.strides, pad: c.pad, dilations: c.dilations, dataFormat: 'NHWC',
            });
            return dot(y.values, dy.values);
          };
          const checks = await centralDifferences(varied.values as Float32Array, analytic.values, loss, { epsilon: 1, samples: 4, seed: c.seed });
          assertCloseDifferences(checks, differenceTolerance);
        }),
        { numRuns: Math.ceil(numRuns / 2) },
      );
    });

    if (spec.comparesWithStock) {
      it('agrees with the stock kernel it replaces', async () => {
        await fc.assert(
          fc.asyncProperty(convCaseArb({ depthwise, dilation: false }), async (c) => {
            const ours = await gradient(spec, 'wasm', c);
            unregisterWasmTrainingKernels();
            try {
              expect(maxRelativeError(ours, await gradient(spec, 'wasm', c))).toBeLessThan(cpuTolerance);
            } finally {
              registerWasmTrainingKernels();
            }
          }),
          { numRuns: Math.ceil(numRuns / 2) },
        );
      });
    }

    it('leaves no tensors or backend buffers behind', async () => {
      const cases = [fc.sample(convCaseArb({ depthwise }), { numRuns: 1, seed: 7 })[0]!, ...spec.leakCases];
      for (const c of cases) await gradient(spec, 'wasm', c);
      await expectNoLeak(async () => {
        for (const c of cases) await gradient(spec, 'wasm', c);
      });
    });
  });
}
