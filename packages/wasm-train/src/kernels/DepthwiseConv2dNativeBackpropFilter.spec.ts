import { describeConvGradient } from '../spec-support/conv-gradient-spec.js';

describeConvGradient({
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  forwardKernelName: 'DepthwiseConv2dNative',
  withRespectTo: 'filter',
  depthwise: true,
  // Stock wasm DepthwiseConv2dNative returns zeros for some shapes (e.g. a 1x2 filter, stride 2, 'same').
  forwardBackend: 'cpu',
  leakCases: [],
});
