import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs';
import type {
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  assertChannelsLast,
  viewAs,
  heapFloat32,
  makeZeros,
  release,
  runWasmKernel,
  WASM,
  type WasmKernelArgs,
} from '../kernel_utils.js';
import { col2im, matMul, prefersIm2col } from '../im2col.js';
import { transposeMatrix } from '../layout.js';

/** TF's Conv2DBackpropInput has a dilation attribute that tfjs-core does not pass yet; accept it when present. */
export type Conv2DBackpropInputDilatedAttrs = Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };

/**
 * Reorders a `[kh, kw, inC, outC]` filter into the `[kh, kw, outC, inC]` filter, flipped in both spatial
 * axes, that turns the transposed convolution into an ordinary one.
 */
export function flipAndSwapFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, inC, outC] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([kh, kw, outC, inC], 'float32');
  const src = heapFloat32(backend, filter);
  const dst = heapFloat32(backend, out);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      const srcTap = ((kh - 1 - r) * kw + (kw - 1 - c)) * inC * outC;
      const dstTap = (r * kw + c) * outC * inC;
      for (let i = 0; i < inC; i++) {
        for (let o = 0; o < outC; o++) dst[dstTap + o * inC + i] = src[srcTap + i * outC + o];
      }
    }
  }
  return out;
}

/**
 * Gradient of a 2-D convolution with respect to its input, as an ordinary XNNPACK convolution of `dy`
 * with the flipped, channel-swapped filter. Stride 1 lets XNNPACK pad `dy` itself; other strides (and
 * padding larger than the filter) first spread `dy` into a zero buffer with the transposed padding.
 */
function conv2DBackpropInput(args: WasmKernelArgs<Conv2DBackpropInputInputs, Conv2DBackpropInputDilatedAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape, dilations } = attrs;
  assertChannelsLast(Conv2DBackpropInput, dataFormat);
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize, inHeight, inWidth, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
  // Transposed padding: the first input row sees dy row 0 through filter tap (effective height - 1 - top).
  const padTop = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const padLeft = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const padBottom = inHeight + info.padInfo.top - (outHeight - 1) * strideHeight - 1;
  const padRight = inWidth + info.padInfo.left - (outWidth - 1) * strideWidth - 1;
  if (prefersIm2col(info)) {
    // Patch gradients dy · Wᵀ ([rows, outC] · [outC, kh·kw·inC]), scattered back onto the input.
    const patchSize = info.filterHeight * info.filterWidth * info.inChannels;
    const weightsT = transposeMatrix(backend, filter, patchSize, outChannels);
    const patchGrads = matMul(backend, viewAs(dy, [batchSize * outHeight * outWidth, outChannels]), weightsT);
    const dx = col2im(backend, patchGrads, info);
    release(backend, weightsT, patchGrads);
    return dx;
  }
  const flipped = flipAndSwapFilter(backend, filter);
  const convAttrs = { strides: 1, dataFormat: 'NHWC', dilations: [info.dilationHeight, info.dilationWidth] };

  const simple = strideHeight === 1 && strideWidth === 1 && Math.min(padTop, padLeft, padBottom, padRight) >= 0;
  if (simple) {
    const pads: backend_util.ExplicitPadding = [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]];
    const dx = runWasmKernel('Conv2D', { x: dy, filter: flipped }, { ...convAttrs, pad: pads }, backend);
    release(backend, flipped);
    return dx;
  }
  const paddedHeight = inHeight + info.effectiveFilterHeight - 1;
  const paddedWidth = inWidth + info.effectiveFilterWidth - 1;
  const spread = makeZeros(backend, [batchSize, paddedHeight, paddedWidth, outChannels]);
  const src = heapFloat32(backend, dy);
  const dst = heapFloat32(backend, spread);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const row = padTop + oh * strideHeight;
      if (row < 0 || row >= paddedHeight) continue;
      for (let ow = 0; ow < outWidth; ow++) {
        const col = padLeft + ow * strideWidth;
        if (col < 0 || col >= paddedWidth) continue;
        const from = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        dst.set(src.subarray(from, from + outChannels), ((b * paddedHeight + row) * paddedWidth + col) * outChannels);
      }
    }
  }
  const dx = runWasmKernel('Conv2D', { x: spread, filter: flipped }, { ...convAttrs, pad: 'valid' }, backend);
  release(backend, flipped, spread);
  return dx;
}

/** Replaces the stock kernel, whose direct loop runs about 10x slower than the forward convolution. */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: WASM,
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
