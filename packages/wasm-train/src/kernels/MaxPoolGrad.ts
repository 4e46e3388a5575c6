import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, MaxPoolGradInputs, TensorInfo } from '@tensorflow/tfjs';
import { heapFloat32, makeZeros, originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * Routes each `dy` value to the first maximum of its pooling window (the cpu backend's tie rule). The
 * window scan runs channel-innermost over the NHWC heap views, keeping a running max per channel,
 * instead of the stock kernel's per-element window walk (~50 ms per Papernot training step). As on cpu, a
 * window whose taps are all -Inf or NaN passes no gradient.
 */
function maxPoolGrad(args: WasmKernelArgs<MaxPoolGradInputs, MaxPoolGradAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const input = inputs.input as TensorInfo;
  if (input.dtype !== 'float32') return originalWasmKernel(MaxPoolGrad).kernelFunc(args as never) as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const dx = makeZeros(backend, input.shape);
  const xs = heapFloat32(backend, input);
  const dys = heapFloat32(backend, dy);
  const dxs = heapFloat32(backend, dx);
  const fitsInside =
    info.padInfo.top === 0 && info.padInfo.left === 0 && outHeight * 2 <= inHeight && outWidth * 2 <= inWidth;
  if (effectiveFilterHeight === 2 && effectiveFilterWidth === 2 && strideHeight === 2 && strideWidth === 2 && fitsInside) {
    routeTwoByTwo(xs, dys, dxs, batchSize, inHeight, inWidth, channels, outHeight, outWidth);
    return dx;
  }
  // Heap offsets of the in-image taps of the current window, refilled per output pixel.
  const taps = new Int32Array(Math.ceil(effectiveFilterHeight / dilationHeight) * Math.ceil(effectiveFilterWidth / dilationWidth));
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const top = oh * strideHeight - info.padInfo.top;
      for (let ow = 0; ow < outWidth; ow++) {
        const left = ow * strideWidth - info.padInfo.left;
        let tapCount = 0;
        for (let r = 0; r < effectiveFilterHeight; r += dilationHeight) {
          const ih = top + r;
          if (ih < 0 || ih >= inHeight) continue;
          for (let c = 0; c < effectiveFilterWidth; c += dilationWidth) {
            const iw = left + c;
            if (iw >= 0 && iw < inWidth) taps[tapCount++] = ((b * inHeight + ih) * inWidth + iw) * channels;
          }
        }
        if (tapCount === 0) continue;
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * channels;
        const first = taps[0]!;
        for (let ch = 0; ch < channels; ch++) {
          let at = first + ch;
          let best = xs[at]!;
          for (let t = 1; t < tapCount; t++) {
            const candidate = taps[t]! + ch;
            // Strictly greater keeps the first maximum; a NaN running maximum is replaced, so NaNs are skipped as on cpu.
            if (xs[candidate]! > best || best !== best) {
              best = xs[candidate]!;
              at = candidate;
            }
          }
          // cpu routes to the first tap above -Inf: a window of only -Inf and NaN gets no gradient.
          if (best > -Infinity) dxs[at] += dys[dyBase + ch]!;
        }
      }
    }
  }
  return dx;
}

/**
 * The common 2x2, stride-2 pool with every window inside the image: the four taps are fixed offsets, so
 * the scan needs no tap table and no inner tap loop (18 -> 6 ms on a [128,24,24,32] input). Same first-
 * maximum and NaN rules as the general loop; windows do not overlap, so each `dy` lands in a zero.
 */
function routeTwoByTwo(
  xs: Float32Array,
  dys: Float32Array,
  dxs: Float32Array,
  batchSize: number,
  inHeight: number,
  inWidth: number,
  channels: number,
  outHeight: number,
  outWidth: number,
): void {
  const right = channels;
  const below = inWidth * channels;
  let dyAt = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      let topLeft = ((b * inHeight + 2 * oh) * inWidth) * channels;
      for (let ow = 0; ow < outWidth; ow++, topLeft += 2 * channels) {
        const end = topLeft + channels;
        for (let at = topLeft; at < end; at++) {
          let best = xs[at]!;
          let to = at;
          const topRight = xs[at + right]!;
          if (topRight > best || best !== best) {
            best = topRight;
            to = at + right;
          }
          const bottomLeft = xs[at + below]!;
          if (bottomLeft > best || best !== best) {
            best = bottomLeft;
            to = at + below;
          }
          const bottomRight = xs[at + below + right]!;
          if (bottomRight > best || best !== best) {
            best = bottomRight;
            to = at + below + right;
          }
          const value = dys[dyAt++]!;
          if (best > -Infinity) dxs[to] = value;
        }
      }
    }
  }
}

/** Replaces the stock kernel for float32 inputs. */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: WASM,
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
