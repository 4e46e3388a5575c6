import { backend_util, util } from '@tensorflow/tfjs';
import type { DataType, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { originalWasmKernel, WASM, type WasmKernelArgs } from './kernel_utils.js';
import { simdKernels } from './simd/simd.js';

/**
 * Comparisons, LogicalAnd and Select on the generated wasm SIMD kernels. The stock kernels take about
 * 6 ns an element for comparisons and LogicalAnd and 3 ns for Select, against about 0.5 ns for Multiply:
 * ReLU6's gradient (`where(x >= 0 && x <= 6, dy, 0)`) was a third of a MobileNetV2 train step. Only
 * same-shape operands, or a scalar right-hand side, take this path; broadcasting and other dtypes go to
 * the stock kernels.
 */

export type BinaryOp = 'greaterEqual' | 'lessEqual' | 'greater' | 'less' | 'logicalAnd';

const SCALAR_OPS: Record<BinaryOp, (x: number, y: number) => boolean> = {
  greaterEqual: (x, y) => x >= y,
  lessEqual: (x, y) => x <= y,
  greater: (x, y) => x > y,
  less: (x, y) => x < y,
  logicalAnd: (x, y) => x !== 0 && y !== 0,
};

function pointer(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/** True when `b` matches `a`'s shape or is one element that broadcasts to it. */
function sameOrScalar(a: TensorInfo, b: TensorInfo): boolean {
  if (util.arraysEqual(a.shape, b.shape)) return true;
  return util.sizeFromShape(b.shape) === 1 && util.arraysEqual(backend_util.assertAndGetBroadcastShape(a.shape, b.shape), a.shape);
}

function binary(op: BinaryOp, inputDtype: DataType, kernelName: string) {
  return (args: WasmKernelArgs<{ a: TensorInfo; b: TensorInfo }, Record<string, never>>): TensorInfo => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    const kernels = simdKernels(backend);
    if (kernels === null || a.dtype !== inputDtype || b.dtype !== inputDtype || !sameOrScalar(a, b)) {
      return originalWasmKernel(kernelName).kernelFunc(args as never) as TensorInfo;
    }
    const n = util.sizeFromShape(a.shape);
    const scalar = !util.arraysEqual(a.shape, b.shape);
    const out = backend.makeOutput([...a.shape], 'bool');
    kernels[op](pointer(backend, a), pointer(backend, b), pointer(backend, out), n, scalar ? 0 : 16);
    const xs = backend.typedArrayFromHeap(a);
    const ys = backend.typedArrayFromHeap(b);
    const result = backend.typedArrayFromHeap(out);
    const test = SCALAR_OPS[op];
    for (let i = n - (n % 16); i < n; i++) result[i] = test(xs[i] as number, ys[scalar ? 0 : i] as number) ? 1 : 0;
    return out;
  };
}

/** A replacement config for a float32 comparison or a bool LogicalAnd. */
export function binaryKernelConfig(kernelName: string, op: BinaryOp): KernelConfig {
  return {
    kernelName,
    backendName: WASM,
    kernelFunc: binary(op, op === 'logicalAnd' ? 'bool' : 'float32', kernelName) as unknown as KernelFunc,
  };
}

/** Select for a bool condition and float32 branches, all of one shape; the rest goes to the stock kernel. */
export function selectKernel(args: WasmKernelArgs<{ condition: TensorInfo; t: TensorInfo; e: TensorInfo }, Record<string, never>>): TensorInfo {
  const { inputs, backend } = args;
  const { condition, t, e } = inputs;
  const kernels = simdKernels(backend);
  const eligible =
    kernels !== null &&
    condition.dtype === 'bool' &&
    t.dtype === 'float32' &&
    e.dtype === 'float32' &&
    util.arraysEqual(condition.shape, t.shape) &&
    util.arraysEqual(t.shape, e.shape);
  if (!eligible) return originalWasmKernel('Select').kernelFunc(args as never) as TensorInfo;
  const n = util.sizeFromShape(t.shape);
  const out = backend.makeOutput([...t.shape], 'float32');
  kernels!.select(pointer(backend, condition), pointer(backend, t), pointer(backend, e), pointer(backend, out), n);
  const cond = backend.typedArrayFromHeap(condition);
  const ts = backend.typedArrayFromHeap(t);
  const es = backend.typedArrayFromHeap(e);
  const result = backend.typedArrayFromHeap(out);
  for (let i = n - (n % 4); i < n; i++) result[i] = cond[i] ? ts[i]! : es[i]!;
  return out;
}
