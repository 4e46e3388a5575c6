import { util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd/simd.js';

/**
 * `out = min(max(x, lo), hi)` elementwise for float32 tensors of one size, with NaN passed through as the
 * cpu backend does (`out` may be `x`, to clamp in place). XNNPACK's clamps, which the stock ReLU, ReLU6,
 * ClipByValue and fused activations use, turn NaN into a bound: a diverged activation or a NaN gradient
 * then looks like an ordinary 0. Runs on the generated wasm SIMD `clamp` when available.
 */
export function clampInto(backend: BackendWasm, x: TensorInfo, out: TensorInfo, lo: number, hi: number): void {
  const n = util.sizeFromShape(x.shape);
  const kernels = simdKernels(backend);
  let done = 0;
  if (kernels !== null) {
    const at = (info: TensorInfo) => backend.dataIdMap.get(info.dataId)!.memoryOffset;
    kernels.clamp(at(x), at(out), n, lo, hi);
    done = n - (n % 4);
  }
  const from = backend.typedArrayFromHeap(x) as Float32Array;
  const to = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = done; i < n; i++) {
    const v = from[i]!;
    to[i] = v !== v ? v : v < lo ? lo : v > hi ? hi : v;
  }
}

/** The clamp range of a fused activation, or `undefined` for one that is not a clamp. */
export function activationClamp(activation: string | undefined): { lo: number; hi: number } | undefined {
  switch (activation ?? 'linear') {
    case 'linear':
      return { lo: -Infinity, hi: Infinity };
    case 'relu':
      return { lo: 0, hi: Infinity };
    case 'relu6':
      return { lo: 0, hi: 6 };
    default:
      return undefined;
  }
}
