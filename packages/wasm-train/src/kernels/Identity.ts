import { Identity } from '@tensorflow/tfjs';
import type { IdentityInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * Shares the input's buffer (reference-counted, like the cpu backend's Identity and wasm's own Reshape)
 * instead of copying it. Backend tensors are immutable, so sharing is safe; tfjs-layers clones every
 * activation, which cost 8-12 ms of copies per Papernot training step.
 */
function identity(args: WasmKernelArgs<IdentityInputs, Record<string, never>>): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype === 'string') return originalWasmKernel(Identity).kernelFunc(args as never) as TensorInfo;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Replaces the copying stock kernel for numeric tensors. */
export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: WASM,
  kernelFunc: identity as unknown as KernelFunc,
};
