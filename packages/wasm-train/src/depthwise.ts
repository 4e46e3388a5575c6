import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { makeZeros } from './kernel_utils.js';
import { simdKernels } from './simd/simd.js';

/** `'auto'` uses the SIMD depthwise walks where they apply; `'never'` keeps the JS loops (specs compare both). */
export const depthwiseSimdPath: { mode: 'auto' | 'never'; taken: number } = { mode: 'auto', taken: 0 };

/**
 * Runs a depthwise gradient as one generated wasm SIMD window walk (four channels a vector) into a fresh
 * zeroed tensor of `shape`, or returns `null` when it does not apply (a channel multiplier, channel
 * counts not divisible by 4, no wasm SIMD): the callers then keep their JS loops. `operand` is the input
 * image (filter gradient) or the filter (input gradient); the walk reads `dy` and it.
 */
export function depthwiseGradientSimd(
  backend: BackendWasm,
  which: 'filter' | 'input',
  info: backend_util.Conv2DInfo,
  operand: TensorInfo,
  dy: TensorInfo,
  shape: number[],
): TensorInfo | null {
  if (depthwiseSimdPath.mode === 'never' || info.outChannels !== info.inChannels || info.inChannels % 4 !== 0) return null;
  const kernels = simdKernels(backend);
  if (kernels === null) return null;
  depthwiseSimdPath.taken++;
  const out = makeZeros(backend, shape);
  const at = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  const walk = which === 'filter' ? kernels.depthwiseFilterGrad : kernels.depthwiseInputGrad;
  // Filter gradient: the image is the operand and the taps are the output; input gradient: the reverse.
  const [image, taps] = which === 'filter' ? [at(operand), at(out)] : [at(out), at(operand)];
  walk(
    image, info.inHeight, info.inWidth, info.inChannels * 4, at(dy), info.outHeight, info.outWidth, info.batchSize,
    taps, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight,
    info.dilationWidth, info.padInfo.top, info.padInfo.left,
  );
  return out;
}
