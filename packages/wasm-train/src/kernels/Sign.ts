import { Sign } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, SignInputs, TensorInfo } from '@tensorflow/tfjs';
import { originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * `sign(x)` as the cpu backend defines it: -1 for x < 0, +1 for x > 0, 0 for ±0 and NaN.
 *
 * Stock tfjs-backend-wasm 4.22 returns 0 for every |x| below about 1e-6 (`sign([1e-7, -1e-30])` is
 * `[0, 0]`, cpu gives `[1, -1]`). The cross-entropy input gradient of a distilled or saturated network is
 * tiny but non-zero on most pixels, so FGSM and every L∞ PGD step (`ε·sign(∇)`) silently stopped moving on
 * wasm and robust accuracy looked higher than it is. A plain comparison per element is exact and costs
 * about 0.1 ms for a 128×784 gradient.
 */
function sign(args: WasmKernelArgs<SignInputs, Record<string, never>>): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return originalWasmKernel(Sign).kernelFunc(args as never) as TensorInfo;
  const out = backend.makeOutput([...x.shape], x.dtype);
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  for (let i = 0; i < from.length; i++) {
    const v = from[i]!;
    to[i] = v > 0 ? 1 : v < 0 ? -1 : 0;
  }
  return out;
}

/** Replaces the stock kernel, which rounds every |x| < ~1e-6 to a sign of 0. */
export const signConfig: KernelConfig = {
  kernelName: Sign,
  backendName: WASM,
  kernelFunc: sign as unknown as KernelFunc,
};
