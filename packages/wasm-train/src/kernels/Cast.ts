import { Cast } from '@tensorflow/tfjs';
import type { CastAttrs, CastInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * A cast to the tensor's own dtype shares its buffer (reference-counted, as the Identity replacement does)
 * instead of copying it. tfjs-core's ReLU gradient is `dy · cast(step(x), 'float32')`, and `step` is
 * already float32: the copies cost 1.7 ms per Papernot training step. Casts to bool test `x != 0` as cpu
 * does (stock wraps through a byte); other conversions go to the stock kernel.
 */
function cast(args: WasmKernelArgs<CastInputs, CastAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const numeric = x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool';
  if (numeric && x.dtype === attrs.dtype) {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }
  if (numeric && attrs.dtype === 'bool') {
    // Stock copies into a Uint8Array, which wraps: -2.5 became 254 and 0.5 became 0. cpu tests x != 0.
    const out = backend.makeOutput(x.shape, 'bool');
    const from = backend.typedArrayFromHeap(x);
    const to = backend.typedArrayFromHeap(out);
    for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
    return out;
  }
  return originalWasmKernel(Cast).kernelFunc(args as never) as TensorInfo;
}

/** Replaces the stock kernel, which copies even when the dtype does not change. */
export const castConfig: KernelConfig = {
  kernelName: Cast,
  backendName: WASM,
  kernelFunc: cast as unknown as KernelFunc,
};
