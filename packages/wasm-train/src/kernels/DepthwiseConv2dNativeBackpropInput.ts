import { backend_util, DepthwiseConv2dNativeBackpropInput } from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropInputInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapFloat32, makeZeros, release, runWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';
import { forEachWindowTap } from '../windows.js';
import { depthwiseGradientSimd } from '../depthwise.js';

/**
 * Gradient of a depthwise convolution with respect to its input. Stride 1 without a channel multiplier
 * runs as an XNNPACK depthwise convolution; otherwise every `dy` pixel scatters
 * `sum_q dy[..., ch * multiplier + q] * w[r, c, ch, q]` back onto the input pixels its window touched.
 * One direct pass over the heap views; handles stride, dilation, channel multiplier and any padding.
 */
function depthwiseConv2dNativeBackpropInput(
  args: WasmKernelArgs<DepthwiseConv2dNativeBackpropInputInputs, DepthwiseConv2dNativeBackpropInputAttrs>,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const multiplier = outChannels / inChannels;
  // Transposed padding, as in Conv2DBackpropInput.
  const padTop = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const padLeft = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const padBottom = inHeight + info.padInfo.top - outHeight;
  const padRight = inWidth + info.padInfo.left - outWidth;
  if (multiplier === 1 && strideHeight === 1 && strideWidth === 1 && Math.min(padTop, padLeft, padBottom, padRight) >= 0) {
    // Stride 1 without a multiplier: an XNNPACK depthwise convolution of dy with the flipped filter
    // (6x faster than the loop below on a [32, 16, 16, 64] input).
    const flipped = flipFilter(backend, filter);
    const pads: backend_util.ExplicitPadding = [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]];
    const dx = runWasmKernel(
      'DepthwiseConv2dNative',
      { x: dy, filter: flipped },
      { strides: 1, dilations: [dilationHeight, dilationWidth], pad: pads, dataFormat: 'NHWC' },
      backend,
    );
    release(backend, flipped);
    return dx;
  }
  // Strides, dilation or wide padding: scatter dy through every window tap, with SIMD where it applies.
  const simd = depthwiseGradientSimd(backend, 'input', info, filter, dy, inputShape);
  if (simd !== null) return simd;
  const dx = makeZeros(backend, inputShape);
  const dxs = heapFloat32(backend, dx);
  const dys = heapFloat32(backend, dy);
  const ws = heapFloat32(backend, filter);
  forEachWindowTap(info, (inputPixel, outputPixel, tap) => {
    const dxBase = inputPixel * inChannels;
    const dyBase = outputPixel * outChannels;
    const tapBase = tap * outChannels;
    if (multiplier === 1) {
      for (let ch = 0; ch < inChannels; ch++) dxs[dxBase + ch] += dys[dyBase + ch]! * ws[tapBase + ch]!;
      return;
    }
    for (let ch = 0; ch < inChannels; ch++) {
      let sum = 0;
      for (let q = 0; q < multiplier; q++) {
        const o = ch * multiplier + q;
        sum += dys[dyBase + o]! * ws[tapBase + o]!;
      }
      dxs[dxBase + ch] += sum;
    }
  });
  return dx;
}

/** Reverses a `[kh, kw, channels, 1]` filter in both spatial axes. */
function flipFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, channels] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput(filter.shape, 'float32');
  const src = heapFloat32(backend, filter);
  const dst = heapFloat32(backend, out);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      const from = ((kh - 1 - r) * kw + (kw - 1 - c)) * channels;
      dst.set(src.subarray(from, from + channels), (r * kw + c) * channels);
    }
  }
  return out;
}

/** Missing from stock tfjs-backend-wasm 4.22 (depthwise and separable convolutions could not train). */
export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: WASM,
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
