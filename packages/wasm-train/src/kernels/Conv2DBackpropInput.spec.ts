import { afterAll, beforeAll, describe } from 'vitest';
import { describeConvGradient, type ConvGradientSpec } from '../spec-support/conv-gradient-spec.js';
import { conv2DBackpropInputPath } from './Conv2DBackpropInput.js';

const spec: ConvGradientSpec = {
  kernelName: 'Conv2DBackpropInput',
  forwardKernelName: 'Conv2D',
  withRespectTo: 'x',
  depthwise: false,
  forwardBackend: 'wasm',
  comparesWithStock: true,
  // The XNNPACK path at stride 2 (zero-spread dy), and at stride 1 in bands (9x9 'valid': 65% more
  // multiplies padded) and as one padded convolution (20x20: 23% more).
  leakCases: [
    { xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [2, 2], dilations: [1, 1], pad: 'same', seed: 3 },
    { xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 4 },
    { xShape: [2, 20, 20, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 5 },
  ],
};
describeConvGradient(spec);

describe('with the stride-1 row-band path forced', () => {
  beforeAll(() => {
    conv2DBackpropInputPath.rowBands = 'always';
  });
  afterAll(() => {
    conv2DBackpropInputPath.rowBands = 'auto';
  });
  describeConvGradient({
    ...spec,
    // Dilated bands with uneven explicit padding, and a single band ('same' 1x3: no vertical padding).
    leakCases: [
      { xShape: [2, 9, 8, 3], filterShape: [3, 2, 3, 4], strides: [1, 1], dilations: [2, 2], pad: [[0, 0], [1, 3], [2, 0], [0, 0]], seed: 6 },
      { xShape: [2, 5, 7, 3], filterShape: [1, 3, 3, 2], strides: [1, 1], dilations: [1, 1], pad: 'same', seed: 8 },
    ],
  });
});
