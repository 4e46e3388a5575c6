import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outShapeOf, type ConvCase } from '../spec-support/conv-cases.js';
import { expectNoLeak, host, maxRelativeError, runKernelOn } from '../spec-support/helpers.js';
import { describeConvGradient, type ConvGradientSpec } from '../spec-support/conv-gradient-spec.js';
import { conv2DBackpropFilterPath } from './Conv2DBackpropFilter.js';
import { winogradPath } from '../winograd.js';

const spec: ConvGradientSpec = {
  kernelName: 'Conv2DBackpropFilter',
  forwardKernelName: 'Conv2D',
  withRespectTo: 'filter',
  depthwise: false,
  forwardBackend: 'wasm',
  // kh·kw·inC = 54 > 32, so not im2col: the transposed convolution on 9x9 (a frame would add 65%
  // multiplies) and the shifted products on 20x20 (23%).
  leakCases: [
    { xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 3 },
    { xShape: [2, 20, 20, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 4 },
  ],
};
describeConvGradient(spec);

describe('with the stride-1 shifted-product path forced', () => {
  beforeAll(() => {
    conv2DBackpropFilterPath.shifted = 'always';
  });
  afterAll(() => {
    conv2DBackpropFilterPath.shifted = 'auto';
  });
  describeConvGradient({
    ...spec,
    // Explicit uneven padding with dilation on a larger image (the multi-chunk case is checked below).
    leakCases: [
      { xShape: [5, 40, 40, 3], filterShape: [3, 3, 3, 4], strides: [1, 1], dilations: [2, 2], pad: [[0, 0], [2, 1], [0, 3], [0, 0]], seed: 5 },
    ],
  });
});

describe('Conv2DBackpropFilter on wasm, targeted shapes', () => {
  // These shapes target the XNNPACK paths; the first would otherwise take the Winograd path (winograd.spec.ts).
  beforeAll(() => {
    winogradPath.mode = 'never';
  });
  afterAll(() => {
    winogradPath.mode = 'auto';
  });
  const cases: ConvCase[] = [
    // Shifted products in 2 batch chunks (3 images, then a short chunk of 2): a 34x34 frame of 64
    // channels is 74,000 floats an image, against chunks of 262,144 floats.
    { xShape: [5, 34, 34, 4], filterShape: [3, 3, 4, 64], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 10 },
    // im2col with kh·kw·inC < outC packs the patches rather than dy (dWᵀ = dyᵀ · patches); the random
    // shapes have at most 4 output channels, so they rarely reach this branch.
    { xShape: [2, 7, 6, 1], filterShape: [3, 3, 1, 12], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 11 },
    { xShape: [3, 8, 8, 2], filterShape: [2, 2, 2, 9], strides: [2, 2], dilations: [1, 1], pad: 'same', seed: 12 },
    { xShape: [1, 9, 7, 3], filterShape: [1, 3, 3, 16], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [1, 0], [2, 1], [0, 0]], seed: 13 },
  ];
  const gradient = (backend: 'wasm' | 'cpu', c: ConvCase) =>
    runKernelOn(
      backend,
      'Conv2DBackpropFilter',
      { x: host(c.xShape, c.seed), dy: host(outShapeOf(c), c.seed + 1) },
      { strides: c.strides, pad: c.pad, dilations: c.dilations, dataFormat: 'NHWC', filterShape: c.filterShape },
    );

  it('matches the cpu backend and leaks nothing', async () => {
    for (const c of cases) {
      expect(maxRelativeError(await gradient('wasm', c), await gradient('cpu', c))).toBeLessThan(1e-4);
    }
    await expectNoLeak(async () => {
      for (const c of cases) await gradient('wasm', c);
    });
  });
});
