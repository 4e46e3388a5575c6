import { Mean } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, MeanAttrs, MeanInputs, TensorInfo } from '@tensorflow/tfjs';
import { originalWasmKernel, viewAs, WASM, type WasmKernelArgs } from '../kernel_utils.js';
import { leadingAxesMean } from '../reduce.js';

/**
 * Means over leading axes (the batch-norm moments: every activation averaged over batch, height and
 * width) as one XNNPACK average pool (see `leadingAxesMean`); the stock kernel transposes first, and
 * took 3 ns an element, 58 ms of a ResNet-20 train step at batch 64. Other reductions go to the stock kernel.
 */
function mean(args: WasmKernelArgs<MeanInputs, MeanAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const reduced = leadingAxesMean(backend, inputs.x as TensorInfo, attrs.axis, attrs.keepDims);
  if (reduced === null) return originalWasmKernel(Mean).kernelFunc(args as never) as TensorInfo;
  return viewAs(reduced.mean, reduced.shape);
}

/** Replaces the stock kernel for float32 means over leading axes. */
export const meanConfig: KernelConfig = {
  kernelName: Mean,
  backendName: WASM,
  kernelFunc: mean as unknown as KernelFunc,
};
