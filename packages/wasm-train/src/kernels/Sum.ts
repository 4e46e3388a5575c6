import { Sum } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, SumAttrs, SumInputs, TensorInfo } from '@tensorflow/tfjs';
import { heapFloat32, originalWasmKernel, viewAs, WASM, type WasmKernelArgs } from '../kernel_utils.js';
import { leadingAxesMean } from '../reduce.js';

/**
 * Sums over leading axes (bias gradients: `dy` summed over batch, height and width) as the mean over
 * them (an XNNPACK average pool, see `leadingAxesMean`) scaled by the row count: 0.3 ms instead of the
 * stock kernel's 5 ms for a `[128, 24, 24, 32]` `dy`. Other reductions go to the stock kernel.
 */
function sum(args: WasmKernelArgs<SumInputs, SumAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const reduced = leadingAxesMean(backend, inputs.x as TensorInfo, attrs.axis, attrs.keepDims);
  if (reduced === null) return originalWasmKernel(Sum).kernelFunc(args as never) as TensorInfo;
  const values = heapFloat32(backend, reduced.mean);
  for (let i = 0; i < values.length; i++) values[i] *= reduced.rows;
  return viewAs(reduced.mean, reduced.shape);
}

/** Replaces the stock kernel for float32 sums over leading axes. */
export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: WASM,
  kernelFunc: sum as unknown as KernelFunc,
};
