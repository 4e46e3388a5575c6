import { Relu6 } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, Relu6Inputs, TensorInfo } from '@tensorflow/tfjs';
import { clampInto } from '../clamp.js';
import { originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/** `min(max(x, 0), 6)` with NaN passed through (cpu's rule). Non-float32 goes to the stock kernel. */
function relu6(args: WasmKernelArgs<Relu6Inputs, Record<string, never>>): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype !== 'float32') return originalWasmKernel(Relu6).kernelFunc(args as never) as TensorInfo;
  const out = backend.makeOutput([...x.shape], 'float32');
  clampInto(backend, x, out, 0, 6);
  return out;
}

/** Replaces the stock kernel, whose XNNPACK clamp turns NaN into a bound. */
export const relu6Config: KernelConfig = { kernelName: Relu6, backendName: WASM, kernelFunc: relu6 as unknown as KernelFunc };
