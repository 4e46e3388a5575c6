import { UnsortedSegmentSum, util } from '@tensorflow/tfjs';
import type {
  KernelConfig,
  KernelFunc,
  TensorInfo,
  UnsortedSegmentSumAttrs,
  UnsortedSegmentSumInputs,
} from '@tensorflow/tfjs';
import { makeZeros, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * `out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s`; ids outside `[0, numSegments)` are
 * dropped, as in TensorFlow. `segmentIds` may cover several leading axes of `x`. Needed by the gradient
 * of `gather` (embedding lookups, picking the true-class logit in attacks and losses).
 */
function unsortedSegmentSum(args: WasmKernelArgs<UnsortedSegmentSumInputs, UnsortedSegmentSumAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const segmentIds = inputs.segmentIds as TensorInfo;
  const { numSegments } = attrs;
  const idCount = util.sizeFromShape(segmentIds.shape);
  const rowSize = idCount === 0 ? 0 : util.sizeFromShape(x.shape) / idCount;
  const out = makeZeros(backend, [numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const xs = backend.typedArrayFromHeap(x);
  const sums = backend.typedArrayFromHeap(out);
  for (let i = 0; i < idCount; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) sums[to + j] += xs[from + j];
  }
  return out;
}

/** Missing from stock tfjs-backend-wasm 4.22: the gradient of `gather` failed on wasm. */
export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: WASM,
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
