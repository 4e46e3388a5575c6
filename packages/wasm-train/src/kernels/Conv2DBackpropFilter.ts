import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import { assertChannelsLast, heapFloat32, release, runWasmKernel, viewAs, WASM, type WasmKernelArgs } from '../kernel_utils.js';
import { im2col, matMul, prefersIm2col } from '../im2col.js';
import { swapOuterAndInner } from '../layout.js';

/** TF's Conv2DBackpropFilter has a dilation attribute that tfjs-core does not pass yet; accept it when present. */
export type Conv2DBackpropFilterDilatedAttrs = Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };

/**
 * Gradient of a 2-D convolution with respect to its filter, as one XNNPACK convolution over transposed
 * tensors: x becomes `[inC, h, w, batch]` (inC "images" of `batch` channels), dy becomes the filter
 * `[outH, outW, batch, outC]`, and the forward stride and dilation trade places. The result
 * `[inC, kh, kw, outC]` is cropped and reordered to `[kh, kw, inC, outC]` in one pass.
 */
function conv2DBackpropFilter(
  args: WasmKernelArgs<Conv2DBackpropFilterInputs, Conv2DBackpropFilterDilatedAttrs>,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape, dilations } = attrs;
  assertChannelsLast(Conv2DBackpropFilter, dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  // Pad just enough below/right for exactly kh x kw outputs; extra rows (stride > dilation) are cropped.
  const padBottom = Math.max(0, (filterHeight - 1) * dilationHeight + (outHeight - 1) * strideHeight + 1 - inHeight - top);
  const padRight = Math.max(0, (filterWidth - 1) * dilationWidth + (outWidth - 1) * strideWidth + 1 - inWidth - left);

  const { batchSize } = info;
  if (prefersIm2col(info)) {
    // dW[kh·kw·inC, outC] = patchesᵀ · dy: the patch matrix is small and dy is used in its own layout.
    const patchesT = im2col(backend, x, info, true);
    const grad = matMul(backend, patchesT, viewAs(dy, [batchSize * outHeight * outWidth, outChannels]));
    release(backend, patchesT);
    return viewAs(grad, filterShape);
  }
  const xT = viewAs(swapOuterAndInner(backend, x, batchSize, inHeight * inWidth, inChannels), [inChannels, inHeight, inWidth, batchSize]);
  // The stock Transpose is a fast block move for this permutation; x's full reversal is faster in JS.
  const dyT = runWasmKernel('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, backend);
  const pads: backend_util.ExplicitPadding = [[0, 0], [top, padBottom], [left, padRight], [0, 0]];
  const grad = runWasmKernel(
    'Conv2D',
    { x: xT, filter: dyT },
    { strides: [dilationHeight, dilationWidth], dilations: [strideHeight, strideWidth], pad: pads, dataFormat: 'NHWC' },
    backend,
  );
  release(backend, xT, dyT);

  const [, gradHeight, gradWidth] = grad.shape as [number, number, number, number];
  const out = backend.makeOutput([filterHeight, filterWidth, inChannels, outChannels], 'float32');
  const src = heapFloat32(backend, grad);
  const dst = heapFloat32(backend, out);
  for (let i = 0; i < inChannels; i++) {
    for (let r = 0; r < filterHeight; r++) {
      for (let c = 0; c < filterWidth; c++) {
        const from = ((i * gradHeight + r) * gradWidth + c) * outChannels;
        dst.set(src.subarray(from, from + outChannels), ((r * filterWidth + c) * inChannels + i) * outChannels);
      }
    }
  }
  release(backend, grad);
  return out;
}

/** Missing from stock tfjs-backend-wasm 4.22, so no conv net could train on wasm. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: WASM,
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
