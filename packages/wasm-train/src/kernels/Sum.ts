import { Sum, util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, SumAttrs, SumInputs, TensorInfo } from '@tensorflow/tfjs';
import { heapFloat32, originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * Sums over leading axes (bias gradients: `dy` summed over batch, height and width) by adding rows in
 * place, in float64. The stock kernel first transposes the reduced axes innermost, which costs more
 * than the sum. Other reductions go to the stock kernel.
 */
function sum(args: WasmKernelArgs<SumInputs, SumAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const axes = util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((axis, i) => axis === i);
  if (!leading || x.dtype !== 'float32') return originalWasmKernel(Sum).kernelFunc(args as never) as TensorInfo;
  const rowSize = util.sizeFromShape(x.shape.slice(axes.length));
  const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
  const totals = new Float64Array(rowSize);
  const xs = heapFloat32(backend, x);
  for (let row = 0, at = 0; row < rows; row++) {
    for (let j = 0; j < rowSize; j++, at++) totals[j] += xs[at]!;
  }
  const shape = attrs.keepDims ? x.shape.map((size, i) => (i < axes.length ? 1 : size)) : x.shape.slice(axes.length);
  return backend.makeOutput(shape, 'float32', undefined, Float32Array.from(totals));
}

/** Replaces the stock kernel for float32 sums over leading axes. */
export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: WASM,
  kernelFunc: sum as unknown as KernelFunc,
};
