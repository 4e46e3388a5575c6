import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapFloat32, makeZeros, runWasmKernel, viewAs } from './kernel_utils.js';

// im2col and col2im write their window loops out instead of sharing windows.ts's visitor: at one channel
// per tap the per-tap callback cost 3-4 ms per call on the Papernot first layer.
//
// XNNPACK's indirect convolution spends most of its time on pointer chasing when a filter tap holds only
// a channel or two (the first layer of an MNIST net): 25 MMAC took 15-35 ms. Unrolling the patches into
// a matrix (im2col) and running one XNNPACK fully-connected product is several times faster there.

/** Largest `filterHeight * filterWidth * inChannels` for which im2col beats XNNPACK's indirect convolution. */
export const IM2COL_MAX_PATCH = 32;

/** True when the convolution's patches are small enough for the im2col paths. */
export function prefersIm2col(info: backend_util.Conv2DInfo): boolean {
  return info.filterHeight * info.filterWidth * info.inChannels <= IM2COL_MAX_PATCH;
}

/**
 * Patch matrix of `x` for the convolution in `info`: `[batch·outH·outW, kh·kw·inC]`, or its transpose
 * `[kh·kw·inC, batch·outH·outW]` when `transposed`; out-of-image taps are zeros.
 */
export function im2col(backend: BackendWasm, x: TensorInfo, info: backend_util.Conv2DInfo, transposed: boolean): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const patch = filterHeight * filterWidth * inChannels;
  const rows = batchSize * outHeight * outWidth;
  const cols = makeZeros(backend, transposed ? [patch, rows] : [rows, patch]);
  const src = heapFloat32(backend, x);
  const dst = heapFloat32(backend, cols);
  // Writing patch-major (transposed) keeps each destination row sequential.
  const rowStep = transposed ? 1 : patch;
  const colStep = transposed ? rows : 1;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let r = 0; r < filterHeight; r++) {
        const ih = oh * strideHeight + r * dilationHeight - info.padInfo.top;
        if (ih < 0 || ih >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const row = (b * outHeight + oh) * outWidth + ow;
          for (let c = 0; c < filterWidth; c++) {
            const iw = ow * strideWidth + c * dilationWidth - info.padInfo.left;
            if (iw < 0 || iw >= inWidth) continue;
            const from = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            let to = row * rowStep + (r * filterWidth + c) * inChannels * colStep;
            for (let ch = 0; ch < inChannels; ch++, to += colStep) dst[to] = src[from + ch];
          }
        }
      }
    }
  }
  return cols;
}

/** Scatter-adds a patch-gradient matrix `[batch·outH·outW, kh·kw·inC]` back onto an input-shaped gradient. */
export function col2im(backend: BackendWasm, patches: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const patch = filterHeight * filterWidth * inChannels;
  const dx = makeZeros(backend, [batchSize, inHeight, inWidth, inChannels]);
  const src = heapFloat32(backend, patches);
  const dst = heapFloat32(backend, dx);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let r = 0; r < filterHeight; r++) {
        const ih = oh * strideHeight + r * dilationHeight - info.padInfo.top;
        if (ih < 0 || ih >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const row = (b * outHeight + oh) * outWidth + ow;
          for (let c = 0; c < filterWidth; c++) {
            const iw = ow * strideWidth + c * dilationWidth - info.padInfo.left;
            if (iw < 0 || iw >= inWidth) continue;
            const to = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const from = row * patch + (r * filterWidth + c) * inChannels;
            for (let ch = 0; ch < inChannels; ch++) dst[to + ch] += src[from + ch];
          }
        }
      }
    }
  }
  return dx;
}

/** `a · b` for row-major matrices through XNNPACK's fully-connected operator (the fast BatchMatMul path). */
export function matMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const product = runWasmKernel(
    'BatchMatMul',
    { a: viewAs(a, [1, m, k]), b: viewAs(b, [1, k, n]) },
    { transposeA: false, transposeB: false },
    backend,
  );
  return viewAs(product, [m, n]);
}
