import { describeConvGradient } from '../spec-support/conv-gradient-spec.js';

describeConvGradient({
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  forwardKernelName: 'DepthwiseConv2dNative',
  withRespectTo: 'x',
  depthwise: true,
  // Stock wasm DepthwiseConv2dNative returns zeros for some shapes (e.g. a 1x2 filter, stride 2, 'same').
  forwardBackend: 'cpu',
  // The XNNPACK path (stride 1, multiplier 1) and the scatter loop (multiplier 2).
  leakCases: [
    { xShape: [2, 7, 7, 3], filterShape: [3, 3, 3, 1], strides: [1, 1], dilations: [1, 1], pad: 'same', seed: 5 },
    { xShape: [2, 7, 7, 3], filterShape: [3, 3, 3, 2], strides: [2, 2], dilations: [1, 1], pad: 'valid', seed: 6 },
  ],
});
