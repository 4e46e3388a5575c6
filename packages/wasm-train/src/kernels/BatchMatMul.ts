import { BatchMatMul, util } from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, BatchMatMulInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { originalWasmKernel, release, runWasmKernel, viewAs, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * The stock kernel uses XNNPACK only for unbatched, untransposed products and otherwise falls back to a
 * naive triple loop. Dense-layer gradients are exactly the transposed case (`dy·Wᵀ`, `xᵀ·dy`), so
 * transpose the flagged operand explicitly (a memory-bound copy) and take the XNNPACK path.
 */
function batchMatMul(args: WasmKernelArgs<BatchMatMulInputs, BatchMatMulAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const original = originalWasmKernel(BatchMatMul);
  const unbatched = util.sizeFromShape(a.shape.slice(0, -2)) === 1 && util.sizeFromShape(b.shape.slice(0, -2)) === 1;
  const float = a.dtype === 'float32' && b.dtype === 'float32';
  if (!(attrs.transposeA || attrs.transposeB) || !unbatched || !float) {
    return original.kernelFunc(args as never) as TensorInfo;
  }
  const matrix = (t: TensorInfo): TensorInfo => viewAs(t, t.shape.slice(-2));
  const a2 = attrs.transposeA ? runWasmKernel('Transpose', { x: matrix(a) }, { perm: [1, 0] }, backend) : matrix(a);
  const b2 = attrs.transposeB ? runWasmKernel('Transpose', { x: matrix(b) }, { perm: [1, 0] }, backend) : matrix(b);
  const product = original.kernelFunc({
    inputs: { a: a2, b: b2 },
    attrs: { transposeA: false, transposeB: false },
    backend,
  }) as TensorInfo;
  if (attrs.transposeA) release(backend, a2);
  if (attrs.transposeB) release(backend, b2);
  const rank = Math.max(a.shape.length, b.shape.length);
  product.shape = [...new Array<number>(rank - 2).fill(1), ...product.shape.slice(-2)];
  return product;
}

/** Replaces the stock kernel for transposed unbatched products; everything else goes to the original. */
export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: WASM,
  kernelFunc: batchMatMul as unknown as KernelFunc,
};
