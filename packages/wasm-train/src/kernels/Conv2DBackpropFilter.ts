import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  aliasAt,
  assertChannelsLast,
  heapFloat32,
  makeZeros,
  release,
  releaseAlias,
  runWasmKernel,
  viewAs,
  WASM,
  type WasmKernelArgs,
} from '../kernel_utils.js';
import { im2col, matMul, prefersIm2col } from '../im2col.js';
import { swapOuterAndInner, transposeMatrix } from '../layout.js';
import { winogradConv2DBackpropFilter, winogradKernels } from '../winograd.js';

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
  const winograd = conv2DBackpropFilterPath.shifted === 'always' ? null : winogradKernels(backend, info);
  if (winograd !== null) return winogradConv2DBackpropFilter(backend, winograd, x, dy, info);
  if (prefersShiftedProducts(info)) return shiftedProducts(backend, x, dy, info);
  if (prefersIm2col(info)) {
    const rows = batchSize * outHeight * outWidth;
    const patchSize = filterHeight * filterWidth * inChannels;
    if (patchSize < outChannels) {
      // XNNPACK packs the right-hand matrix on every call (dy is a new tensor each step), about 4.6 ns a
      // float here. dWᵀ = dyᵀ · patches packs the patches [rows, kh·kw·inC] instead of dy [rows, outC],
      // and the stock 2-D Transpose of dy costs less than the packing saved: the Papernot conv1 (9 < 32)
      // went from 17-21 to 14-18 ms (median of 9 runs 14.5) with a fresh dy per call, as in training.
      const patches = im2col(backend, x, info, false);
      const dyT = runWasmKernel('Transpose', { x: viewAs(dy, [rows, outChannels]) }, { perm: [1, 0] }, backend);
      const gradT = matMul(backend, viewAs(dyT, [outChannels, rows]), patches);
      const grad = transposeMatrix(backend, gradT, outChannels, patchSize);
      release(backend, patches, dyT, gradT);
      return viewAs(grad, filterShape);
    }
    // dW[kh·kw·inC, outC] = patchesᵀ · dy: the patch matrix is small and dy is used in its own layout.
    const patchesT = im2col(backend, x, info, true);
    const grad = matMul(backend, patchesT, viewAs(dy, [rows, outChannels]));
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

/**
 * Stride-1 filter gradient as one fully-connected product per filter tap, with no im2col and no packing
 * of anything but dy. x is laid out channel-major over a zero-padded frame, `xT[inC, batch·Hp·Wp]`, where
 * every tap's window lies inside the frame; dy sits at the frame's top-left in `dyFrame[batch·Hp·Wp, outC]`
 * and is zero elsewhere. Tap (r, c) is then `xT` read `s = r·dh·Wp + c·dw` floats later (a heap alias,
 * not a copy) times `dyFrame`: the window of output pixel q is input pixel q + s. Reads that run past a
 * channel's row meet zero rows of `dyFrame`, and a zeroed tail covers the last channel. The product for
 * each tap is exactly `dW[r, c]`. XNNPACK caches the operator per weights tensor, so `dyFrame` is packed
 * once for all taps.
 */
function shiftedProducts(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const frameHeight = outHeight + (filterHeight - 1) * dilationHeight;
  const frameWidth = outWidth + (filterWidth - 1) * dilationWidth;
  const framePixels = frameHeight * frameWidth;
  const rowLength = batchSize * framePixels;
  const tail = (filterHeight - 1) * dilationHeight * frameWidth + (filterWidth - 1) * dilationWidth;

  // K blocking: XNNPACK's GEMM streams the whole packed weights (K rows) once per few rows of A, so the
  // batch is cut into chunks of images whose packed dy stays in cache; chunk partial products are summed.
  const chunk = Math.min(batchSize, filterGradientChunk(info));
  const chunkLength = chunk * framePixels;
  const chunks = Math.ceil(batchSize / chunk);
  // Chunk-major, then channel-major: xT[chunk][inC][chunk images · Hp · Wp]; a short last chunk is zero padded.
  const xT = makeZeros(backend, [chunks * inChannels * chunkLength + tail]);
  const dyFrame = makeZeros(backend, [chunks * chunkLength, outChannels]);
  if (top === 0 && left === 0 && frameHeight === inHeight && frameWidth === inWidth) {
    // The frame is the image ('valid'): each chunk of x is one [pixels, inC] matrix, and the stock 2-D
    // Transpose of it beats the JS loop below: 1.1 against 6.2 ms over the Papernot conv2's 11 chunks.
    for (let k = 0; k < chunks; k++) {
      const count = Math.min(chunk, batchSize - k * chunk);
      const pixels = count * framePixels;
      const rows = aliasAt(backend, x, k * chunk * framePixels * inChannels, [pixels, inChannels]);
      const transposed = runWasmKernel('Transpose', { x: rows }, { perm: [1, 0] }, backend);
      releaseAlias(backend, rows);
      const from = heapFloat32(backend, transposed);
      const to = heapFloat32(backend, xT);
      for (let i = 0; i < inChannels; i++) {
        to.set(from.subarray(i * pixels, (i + 1) * pixels), (k * inChannels + i) * chunkLength);
      }
      release(backend, transposed);
    }
  } else {
    const xs = heapFloat32(backend, x);
    const xTs = heapFloat32(backend, xT);
    // Frame rows and columns that hold image pixels (the rest is padding, or image cropped off by 'valid').
    const firstRow = Math.max(0, top);
    const lastRow = Math.min(frameHeight, inHeight + top);
    const firstCol = Math.max(0, left);
    const lastCol = Math.min(frameWidth, inWidth + left);
    for (let b = 0; b < batchSize; b++) {
      const chunkBase = Math.floor(b / chunk) * inChannels * chunkLength + (b % chunk) * framePixels;
      for (let fr = firstRow; fr < lastRow; fr++) {
        const frameBase = chunkBase + fr * frameWidth;
        let from = ((b * inHeight + fr - top) * inWidth + firstCol - left) * inChannels;
        for (let fc = firstCol; fc < lastCol; fc++) {
          let to = frameBase + fc;
          for (let i = 0; i < inChannels; i++, to += chunkLength) xTs[to] = xs[from++]!;
        }
      }
    }
  }
  const dys = heapFloat32(backend, dy);
  const frame = heapFloat32(backend, dyFrame);
  const rowFloats = outWidth * outChannels;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const from = (b * outHeight + oh) * rowFloats;
      frame.set(dys.subarray(from, from + rowFloats), (b * framePixels + oh * frameWidth) * outChannels);
    }
  }

  const tapSize = inChannels * outChannels;
  const sum = new Float32Array(filterHeight * filterWidth * tapSize);
  for (let k = 0; k < chunks; k++) {
    const weights = aliasAt(backend, dyFrame, k * chunkLength * outChannels, [chunkLength, outChannels]);
    for (let r = 0; r < filterHeight; r++) {
      for (let c = 0; c < filterWidth; c++) {
        const shift = k * inChannels * chunkLength + r * dilationHeight * frameWidth + c * dilationWidth;
        const shifted = aliasAt(backend, xT, shift, [inChannels, chunkLength]);
        const tapGrad = matMul(backend, shifted, weights);
        releaseAlias(backend, shifted);
        const partial = heapFloat32(backend, tapGrad);
        const at = (r * filterWidth + c) * tapSize;
        if (k === 0) sum.set(partial, at);
        else for (let i = 0; i < tapSize; i++) sum[at + i] += partial[i]!;
        release(backend, tapGrad);
      }
    }
    releaseAlias(backend, weights);
  }
  release(backend, xT, dyFrame);
  const out = backend.makeOutput([filterHeight, filterWidth, inChannels, outChannels], 'float32');
  heapFloat32(backend, out).set(sum);
  return out;
}

/** Images per chunk so that one chunk of `dyFrame` is about 1 MB (8 to 12 images on the Papernot layers). */
function filterGradientChunk(info: backend_util.Conv2DInfo): number {
  const framePixels = (info.outHeight + info.effectiveFilterHeight - 1) * (info.outWidth + info.effectiveFilterWidth - 1);
  return Math.max(1, Math.floor(262_144 / (framePixels * info.outChannels)));
}

/**
 * Which stride-1 filter-gradient formulation runs: `'auto'` (measured choice), or one forced for every
 * stride-1 case, im2col-sized ones included, so specs cover the shifted-product path on small shapes.
 */
export const conv2DBackpropFilterPath = { shifted: 'auto' as 'auto' | 'always' | 'never' };

/**
 * The shifted products multiply the whole frame, `Hp·Wp / (outH·outW)` times the useful work: 1.17 on
 * the Papernot conv2 (26x26x32, 82 -> 71 ms), but 1.44 and 1.56 on conv3 and conv4, where the single
 * transposed XNNPACK convolution stays faster. Below 1.25 the saved transposes and operator creation win.
 */
function prefersShiftedProducts(info: backend_util.Conv2DInfo): boolean {
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return false;
  const mode = conv2DBackpropFilterPath.shifted;
  if (mode !== 'auto') return mode === 'always';
  if (prefersIm2col(info)) return false;
  const frame = (info.outHeight + info.effectiveFilterHeight - 1) * (info.outWidth + info.effectiveFilterWidth - 1);
  return frame <= 1.25 * info.outHeight * info.outWidth;
}

/** Missing from stock tfjs-backend-wasm 4.22, so no conv net could train on wasm. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: WASM,
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
