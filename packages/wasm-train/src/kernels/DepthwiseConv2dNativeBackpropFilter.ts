import { backend_util, DepthwiseConv2dNativeBackpropFilter } from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropFilterInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import { heapFloat32, WASM, type WasmKernelArgs } from '../kernel_utils.js';
import { forEachWindowTap } from '../windows.js';
import { depthwiseGradientSimd } from '../depthwise.js';

/**
 * Gradient of a depthwise convolution with respect to its `[kh, kw, inC, multiplier]` filter. Depthwise
 * filters are small and each tap is a per-channel dot product, so one direct pass over the image is
 * enough: a generated wasm SIMD walk (four channels a vector, float32 accumulators) for multiplier 1 and
 * channel counts divisible by 4, otherwise a JS pass over the heap views accumulating in float64. Both
 * handle stride, dilation and any padding.
 */
function depthwiseConv2dNativeBackpropFilter(
  args: WasmKernelArgs<DepthwiseConv2dNativeBackpropFilterInputs, DepthwiseConv2dNativeBackpropFilterAttrs>,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const simd = depthwiseGradientSimd(backend, 'filter', info, x, dy, filterShape);
  if (simd !== null) return simd;
  const { inChannels, outChannels, filterHeight, filterWidth } = info;
  const multiplier = outChannels / inChannels;
  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  const xs = heapFloat32(backend, x);
  const dys = heapFloat32(backend, dy);
  forEachWindowTap(info, (inputPixel, outputPixel, tap) => {
    const xBase = inputPixel * inChannels;
    const dyBase = outputPixel * outChannels;
    const tapBase = tap * outChannels;
    if (multiplier === 1) {
      for (let ch = 0; ch < inChannels; ch++) sums[tapBase + ch] += xs[xBase + ch]! * dys[dyBase + ch]!;
      return;
    }
    for (let ch = 0; ch < inChannels; ch++) {
      const xv = xs[xBase + ch]!;
      for (let q = 0; q < multiplier; q++) {
        const o = ch * multiplier + q;
        sums[tapBase + o] += xv * dys[dyBase + o]!;
      }
    }
  });
  return backend.makeOutput(filterShape, 'float32', undefined, Float32Array.from(sums));
}

/** Missing from stock tfjs-backend-wasm 4.22 (depthwise and separable convolutions could not train). */
export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: WASM,
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
