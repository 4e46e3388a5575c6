import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapFloat32 } from './kernel_utils.js';

// Layout changes for the convolution gradients. The stock wasm Transpose walks a generic N-d index per
// element (~8 ns/element here); these fixed patterns stream through memory in cache-friendly order.

/** `[outer, middle, inner]` → `[inner, middle, outer]`, e.g. NHWC `[b, h·w, c]` → `[c, h·w, b]`. */
export function swapOuterAndInner(backend: BackendWasm, x: TensorInfo, outer: number, middle: number, inner: number): TensorInfo {
  const out = backend.makeOutput([inner, middle, outer], 'float32');
  const src = heapFloat32(backend, x);
  const dst = heapFloat32(backend, out);
  const outerStride = middle * inner;
  // For one middle index, the `outer` rows of `inner` values stay in L1 while every channel is written out.
  for (let m = 0; m < middle; m++) {
    const srcBase = m * inner;
    for (let i = 0; i < inner; i++) {
      let s = srcBase + i;
      let d = (i * middle + m) * outer;
      for (let o = 0; o < outer; o++, s += outerStride) dst[d++] = src[s];
    }
  }
  return out;
}

/** Row-major `[rows, cols]` → `[cols, rows]`, for small matrices such as filters. */
export function transposeMatrix(backend: BackendWasm, x: TensorInfo, rows: number, cols: number): TensorInfo {
  const out = backend.makeOutput([cols, rows], 'float32');
  const src = heapFloat32(backend, x);
  const dst = heapFloat32(backend, out);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  }
  return out;
}
