import type { TensorInfo } from '@tensorflow/tfjs';
import type { backend_util } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels, type SimdKernels } from './simd/simd.js';

/**
 * Winograd F(2x2, 3x3) convolutions (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
 * CVPR 2016): each 2x2 output tile costs 16 multiplies per channel pair instead of 36. The three passes of
 * a 3x3 stride-1 convolution share the transforms:
 *
 * - forward: `Y = Aᵀ [ (G W Gᵀ) ⊙ (Bᵀ X B) ] A`, summed over input channels, i.e. 16 GEMMs
 *   `M[ξ] = V[ξ] · U[ξ]` (tiles × inC times inC × outC);
 * - input gradient: the forward pass of `dy` with the flipped, channel-swapped filter and padding 2 − pad;
 * - filter gradient: `dU[ξ] = V[ξ]ᵀ · (A dY Aᵀ)[ξ]`, then `dW = Gᵀ dU G`.
 *
 * Images are processed in chunks so the 16 transformed planes stay in cache. The GEMMs and transforms
 * are the generated SIMD kernels in `simd/`, working on the backend's heap in place.
 */

/** `'auto'` uses Winograd wherever it applies, `'never'` keeps the XNNPACK paths (specs and the bench compare both). */
export const winogradPath: { mode: 'auto' | 'never'; chunkFloats: number; taken: number } = {
  mode: 'auto',
  /** How many convolutions have taken this path (specs check that a case reached it). */
  taken: 0,
  /** Target size, in floats, of one chunk's 16 transformed planes (per operand). */
  chunkFloats: 1 << 16,
};

/** The SIMD kernels when `info` is a 3x3, stride-1, undilated convolution the Winograd path handles. */
export function winogradKernels(backend: BackendWasm, info: backend_util.Conv2DInfo): SimdKernels | null {
  if (winogradPath.mode === 'never') return null;
  const ok =
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.inChannels % 4 === 0 &&
    info.outChannels % 4 === 0 &&
    info.padInfo.top <= 2 &&
    info.padInfo.left <= 2 &&
    info.padInfo.bottom <= 2 &&
    info.padInfo.right <= 2;
  const kernels = ok ? simdKernels(backend) : null;
  if (kernels !== null) winogradPath.taken++;
  return kernels;
}

function pointer(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/** Scratch memory on the wasm heap, freed by `free`. */
class Scratch {
  private readonly blocks: number[] = [];
  constructor(private readonly backend: BackendWasm) {}
  alloc(floats: number, zero = false): number {
    const wasm = this.backend.wasm as unknown as { _malloc(n: number): number; HEAPF32: Float32Array };
    const ptr = wasm._malloc(Math.max(16, floats * 4));
    this.blocks.push(ptr);
    if (zero) wasm.HEAPF32.fill(0, ptr >> 2, (ptr >> 2) + floats);
    return ptr;
  }
  heap(): Float32Array {
    return (this.backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;
  }
  free(): void {
    const wasm = this.backend.wasm as unknown as { _free(p: number): void };
    for (const ptr of this.blocks) wasm._free(ptr);
    this.blocks.length = 0;
  }
}

/**
 * Writes the 16 transformed filter planes `U[ξ] = (G w Gᵀ)[ξ]` (each `rows × cols`, row-major) at `dst`.
 * `w` is HWIO `[3, 3, inC, outC]`. Without `flip`, rows are input channels; with `flip`, the filter is
 * flipped in both spatial axes and rows are output channels (the input-gradient convolution).
 */
function transformFilter(heap: Float32Array, dst: number, w: Float32Array, inC: number, outC: number, flip: boolean): void {
  const rows = flip ? outC : inC;
  const cols = flip ? inC : outC;
  const plane = rows * cols;
  const base = dst >> 2;
  const g = new Float64Array(9);
  const t = new Float64Array(12);
  for (let i = 0; i < inC; i++) {
    for (let o = 0; o < outC; o++) {
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 3; c++) {
          const src = flip ? (2 - r) * 3 + (2 - c) : r * 3 + c;
          g[r * 3 + c] = w[(src * inC + i) * outC + o]!;
        }
      }
      // t = G g (4x3), then G t Gᵀ column-wise.
      for (let c = 0; c < 3; c++) {
        const a = g[c]!, b = g[3 + c]!, d = g[6 + c]!;
        t[c] = a;
        t[3 + c] = 0.5 * (a + b + d);
        t[6 + c] = 0.5 * (a - b + d);
        t[9 + c] = d;
      }
      const at = (flip ? o * cols + i : i * cols + o) + base;
      for (let r = 0; r < 4; r++) {
        const a = t[r * 3]!, b = t[r * 3 + 1]!, d = t[r * 3 + 2]!;
        heap[at + (r * 4) * plane] = a;
        heap[at + (r * 4 + 1) * plane] = 0.5 * (a + b + d);
        heap[at + (r * 4 + 2) * plane] = 0.5 * (a - b + d);
        heap[at + (r * 4 + 3) * plane] = d;
      }
    }
  }
}

interface Geometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  padTop: number;
  padLeft: number;
}

function chunkImages(tilesPerImage: number, channels: number, batch: number): number {
  return Math.max(1, Math.min(batch, Math.floor(winogradPath.chunkFloats / (16 * tilesPerImage * channels))));
}

/** A per-channel bias (heap pointer, 0 for none) and a clamp applied to the convolution's output. */
export interface Epilogue {
  bias: number;
  lo: number;
  hi: number;
}

const NO_EPILOGUE: Epilogue = { bias: 0, lo: -Infinity, hi: Infinity };

/** y = conv(x, U) for transformed filter planes U (inC × outC each), one chunk of images at a time. */
function convolve(k: SimdKernels, scratch: Scratch, xPtr: number, u: number, yPtr: number, g: Geometry, e: Epilogue): void {
  const tilesH = Math.ceil(g.outH / 2);
  const tilesW = Math.ceil(g.outW / 2);
  const perImage = tilesH * tilesW;
  const chunk = chunkImages(perImage, Math.max(g.inC, g.outC), g.batch);
  const maxTiles = chunk * perImage;
  const v = scratch.alloc(16 * maxTiles * g.inC);
  const m = scratch.alloc(16 * maxTiles * g.outC);
  const zero = scratch.alloc(g.inC, true);
  for (let n0 = 0; n0 < g.batch; n0 += chunk) {
    const count = Math.min(chunk, g.batch - n0);
    const tiles = count * perImage;
    const vStride = tiles * g.inC * 4;
    const mStride = tiles * g.outC * 4;
    k.winoIn(xPtr, g.inH, g.inW, g.inC * 4, g.padTop, g.padLeft, n0, count, tilesH, tilesW, zero, v, vStride);
    for (let xi = 0; xi < 16; xi++) {
      k.gemm(v + xi * vStride, g.inC * 4, u + xi * g.inC * g.outC * 4, g.outC * 4, m + xi * mStride, g.outC * 4, tiles, g.outC, g.inC, 0);
    }
    k.winoOut(m, mStride, g.outC * 4, n0, count, tilesH, tilesW, yPtr, g.outH, g.outW, e.bias, e.lo, e.hi);
  }
}

/**
 * Convolves `input` with `filter` (transformed, and flipped when `flip`) into a fresh tensor: the
 * forward pass (`flip` false) or the input gradient (`flip` true), which share everything else.
 */
function filteredConvolution(
  backend: BackendWasm, k: SimdKernels, input: TensorInfo, filter: TensorInfo, g: Geometry, flip: boolean, e: Epilogue,
): TensorInfo {
  const out = backend.makeOutput([g.batch, g.outH, g.outW, g.outC], 'float32');
  const scratch = new Scratch(backend);
  try {
    const u = scratch.alloc(16 * g.inC * g.outC);
    const w = backend.typedArrayFromHeap(filter) as Float32Array;
    const [inC, outC] = flip ? [g.outC, g.inC] : [g.inC, g.outC];
    transformFilter(scratch.heap(), u, w, inC, outC, flip);
    convolve(k, scratch, pointer(backend, input), u, pointer(backend, out), g, e);
  } finally {
    scratch.free();
  }
  return out;
}

/**
 * Forward 3x3 stride-1 convolution (see {@link winogradKernels} for when it applies), optionally plus a
 * `[outC]` bias and clamped to `[lo, hi]` (ReLU: `lo = 0`; ReLU6: also `hi = 6`).
 */
export function winogradConv2D(
  backend: BackendWasm, k: SimdKernels, x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo,
  epilogue: { bias?: TensorInfo; lo?: number; hi?: number } = {},
): TensorInfo {
  const geometry: Geometry = {
    batch: info.batchSize, inH: info.inHeight, inW: info.inWidth, inC: info.inChannels,
    outH: info.outHeight, outW: info.outWidth, outC: info.outChannels,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
  return filteredConvolution(backend, k, x, filter, geometry, false, {
    bias: epilogue.bias === undefined ? 0 : pointer(backend, epilogue.bias),
    lo: epilogue.lo ?? -Infinity,
    hi: epilogue.hi ?? Infinity,
  });
}

/** Input gradient of a 3x3 stride-1 convolution: dy convolved with the flipped, channel-swapped filter. */
export function winogradConv2DBackpropInput(
  backend: BackendWasm, k: SimdKernels, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo,
): TensorInfo {
  const geometry: Geometry = {
    batch: info.batchSize, inH: info.outHeight, inW: info.outWidth, inC: info.outChannels,
    outH: info.inHeight, outW: info.inWidth, outC: info.inChannels,
    padTop: 2 - info.padInfo.top, padLeft: 2 - info.padInfo.left,
  };
  return filteredConvolution(backend, k, dy, filter, geometry, true, NO_EPILOGUE);
}

/** Filter gradient of a 3x3 stride-1 convolution: `dU[ξ] = Σ_tiles V[ξ]ᵀ dM[ξ]`, then `dW = Gᵀ dU G`. */
export function winogradConv2DBackpropFilter(
  backend: BackendWasm, k: SimdKernels, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: batch, inHeight, inWidth, inChannels: inC, outHeight, outWidth, outChannels: outC } = info;
  const dw = backend.makeOutput([3, 3, inC, outC], 'float32');
  const scratch = new Scratch(backend);
  try {
    const tilesH = Math.ceil(outHeight / 2);
    const tilesW = Math.ceil(outWidth / 2);
    const perImage = tilesH * tilesW;
    const chunk = chunkImages(perImage, Math.max(inC, outC), batch);
    const maxTiles = chunk * perImage;
    const v = scratch.alloc(16 * maxTiles * inC);
    const dm = scratch.alloc(16 * maxTiles * outC);
    const zero = scratch.alloc(Math.max(inC, outC), true);
    const plane = inC * outC;
    const du = scratch.alloc(16 * plane);
    const xPtr = pointer(backend, x);
    const dyPtr = pointer(backend, dy);
    for (let n0 = 0; n0 < batch; n0 += chunk) {
      const count = Math.min(chunk, batch - n0);
      const tiles = count * perImage;
      const vStride = tiles * inC * 4;
      const dmStride = tiles * outC * 4;
      k.winoIn(xPtr, inHeight, inWidth, inC * 4, info.padInfo.top, info.padInfo.left, n0, count, tilesH, tilesW, zero, v, vStride);
      k.winoGradOut(dyPtr, outHeight, outWidth, outC * 4, n0, count, tilesH, tilesW, zero, dm, dmStride);
      for (let xi = 0; xi < 16; xi++) {
        k.gemmTA(v + xi * vStride, inC * 4, dm + xi * dmStride, outC * 4, du + xi * plane * 4, outC * 4, inC, outC, tiles, n0 === 0 ? 0 : 1);
      }
    }
    // dW = Gᵀ dU G, with Gᵀ = [[1, ½, ½, 0], [0, ½, −½, 0], [0, ½, ½, 1]].
    const heap = scratch.heap();
    const out = backend.typedArrayFromHeap(dw) as Float32Array;
    const duBase = du >> 2;
    const t = new Float64Array(12);
    for (let e = 0; e < plane; e++) {
      for (let q = 0; q < 4; q++) {
        const a = heap[duBase + q * plane + e]!;
        const b = heap[duBase + (4 + q) * plane + e]!;
        const c = heap[duBase + (8 + q) * plane + e]!;
        const d = heap[duBase + (12 + q) * plane + e]!;
        t[q] = a + 0.5 * (b + c);
        t[4 + q] = 0.5 * (b - c);
        t[8 + q] = 0.5 * (b + c) + d;
      }
      for (let r = 0; r < 3; r++) {
        const a = t[r * 4]!, b = t[r * 4 + 1]!, c = t[r * 4 + 2]!, d = t[r * 4 + 3]!;
        out[(r * 3) * plane + e] = a + 0.5 * (b + c);
        out[(r * 3 + 1) * plane + e] = 0.5 * (b - c);
        out[(r * 3 + 2) * plane + e] = 0.5 * (b + c) + d;
      }
    }
  } finally {
    scratch.free();
  }
  return dw;
}
