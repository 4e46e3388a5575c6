import { describeConvGradient } from '../spec-support/conv-gradient-spec.js';

describeConvGradient({
  kernelName: 'Conv2DBackpropInput',
  forwardKernelName: 'Conv2D',
  withRespectTo: 'x',
  depthwise: false,
  forwardBackend: 'wasm',
  comparesWithStock: true,
  // The XNNPACK path at stride 2 (zero-spread dy) and at stride 1 (XNNPACK pads dy itself).
  leakCases: [
    { xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [2, 2], dilations: [1, 1], pad: 'same', seed: 3 },
    { xShape: [2, 9, 9, 6], filterShape: [3, 3, 6, 4], strides: [1, 1], dilations: [1, 1], pad: 'valid', seed: 4 },
  ],
});
