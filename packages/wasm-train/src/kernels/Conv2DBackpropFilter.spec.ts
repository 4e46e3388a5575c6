import { afterAll, beforeAll, describe } from 'vitest';
import { describeConvGradient } from '../spec-support/conv-gradient-spec.js';
import { conv2DBackpropFilterPath } from './Conv2DBackpropFilter.js';

describeConvGradient({
  kernelName: 'Conv2DBackpropFilter',
  forwardKernelName: 'Conv2D',
  withRespectTo: 'filter',
  depthwise: false,
  forwardBackend: 'wasm',
  // kh·kw·inC = 54 > 32: the XNNPACK path rather than im2col.
  leakCases: [{ xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 3 }],
});

describe('with the stride-1 shifted-product path forced', () => {
  beforeAll(() => {
    conv2DBackpropFilterPath.shifted = 'always';
  });
  afterAll(() => {
    conv2DBackpropFilterPath.shifted = 'auto';
  });
  describeConvGradient({
    kernelName: 'Conv2DBackpropFilter',
    forwardKernelName: 'Conv2D',
    withRespectTo: 'filter',
    depthwise: false,
    forwardBackend: 'wasm',
    // Several chunks with a short last one (4 images, chunk of 2 to 3), explicit padding and dilation.
    leakCases: [
      { xShape: [5, 40, 40, 3], filterShape: [3, 3, 3, 4], strides: [1, 1], dilations: [2, 2], pad: [[0, 0], [2, 1], [0, 3], [0, 0]], seed: 5 },
    ],
  });
});
