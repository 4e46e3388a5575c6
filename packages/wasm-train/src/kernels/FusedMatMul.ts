import { _FusedMatMul } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activationClamp, clampInto } from '../clamp.js';
import { originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

interface FusedMatMulInputs {
  a: TensorInfo;
  b: TensorInfo;
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}
interface FusedMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation: string;
  leakyreluAlpha?: number;
}

/**
 * Matrix product + bias + activation (tfjs-layers' dense layer). A ReLU or ReLU6 activation runs the stock
 * product with a linear activation and then clamps with NaN passed through (cpu's rule): the stock fused
 * XNNPACK clamp turned NaN into 0. Other activations go to the stock kernel unchanged.
 */
function fusedMatMul(args: WasmKernelArgs<FusedMatMulInputs, FusedMatMulAttrs>): TensorInfo {
  const { backend, attrs } = args;
  const clamp = activationClamp(attrs.activation);
  if (clamp === undefined || attrs.activation === 'linear') return originalWasmKernel(_FusedMatMul).kernelFunc(args as never) as TensorInfo;
  const out = originalWasmKernel(_FusedMatMul).kernelFunc({ ...args, attrs: { ...attrs, activation: 'linear' } } as never) as TensorInfo;
  if (out.dtype === 'float32') clampInto(backend, out, out, clamp.lo, clamp.hi);
  return out;
}

/** Replaces the stock kernel for ReLU and ReLU6 activations. */
export const fusedMatMulConfig: KernelConfig = {
  kernelName: _FusedMatMul,
  backendName: WASM,
  kernelFunc: fusedMatMul as unknown as KernelFunc,
};
