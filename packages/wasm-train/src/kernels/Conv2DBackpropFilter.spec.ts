import { describeConvGradient } from '../spec-support/conv-gradient-spec.js';

describeConvGradient({
  kernelName: 'Conv2DBackpropFilter',
  forwardKernelName: 'Conv2D',
  withRespectTo: 'filter',
  depthwise: false,
  forwardBackend: 'wasm',
  // kh·kw·inC = 54 > 32: the XNNPACK path rather than im2col.
  leakCases: [{ xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 3 }],
});
