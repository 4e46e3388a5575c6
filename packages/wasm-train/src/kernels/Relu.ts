import { Relu } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, ReluInputs, TensorInfo } from '@tensorflow/tfjs';
import { clampInto } from '../clamp.js';
import { originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/** `max(x, 0)` with NaN passed through (cpu's rule); stock wasm returned 0 for NaN. Non-float32 goes to stock. */
function relu(args: WasmKernelArgs<ReluInputs, Record<string, never>>): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype !== 'float32') return originalWasmKernel(Relu).kernelFunc(args as never) as TensorInfo;
  const out = backend.makeOutput([...x.shape], 'float32');
  clampInto(backend, x, out, 0, Infinity);
  return out;
}

/** Replaces the stock kernel, whose XNNPACK clamp turns NaN into 0. */
export const reluConfig: KernelConfig = { kernelName: Relu, backendName: WASM, kernelFunc: relu as unknown as KernelFunc };
