import { ClipByValue } from '@tensorflow/tfjs';
import type { ClipByValueAttrs, ClipByValueInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { clampInto } from '../clamp.js';
import { originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * `min(max(x, clipValueMin), clipValueMax)` with NaN passed through (cpu's rule). Stock wasm clamped NaN
 * to the lower bound, so an attack whose gradient went NaN silently returned the corner of its box.
 */
function clipByValue(args: WasmKernelArgs<ClipByValueInputs, ClipByValueAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype !== 'float32') return originalWasmKernel(ClipByValue).kernelFunc(args as never) as TensorInfo;
  const out = backend.makeOutput([...x.shape], 'float32');
  clampInto(backend, x, out, attrs.clipValueMin, attrs.clipValueMax);
  return out;
}

/** Replaces the stock kernel, whose XNNPACK clamp turns NaN into the lower bound. */
export const clipByValueConfig: KernelConfig = {
  kernelName: ClipByValue,
  backendName: WASM,
  kernelFunc: clipByValue as unknown as KernelFunc,
};
