// Importing the backend registers its stock kernels, which replacements must find to delegate to.
import '@tensorflow/tfjs-backend-wasm';
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { originalWasmKernels, WASM } from './kernel_utils.js';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { castConfig } from './kernels/Cast.js';
import { conv2DConfig } from './kernels/Conv2D.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { fusedConv2DConfig } from './kernels/FusedConv2D.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput.js';
import { greaterConfig } from './kernels/Greater.js';
import { greaterEqualConfig } from './kernels/GreaterEqual.js';
import { lessConfig } from './kernels/Less.js';
import { lessEqualConfig } from './kernels/LessEqual.js';
import { logicalAndConfig } from './kernels/LogicalAnd.js';
import { selectConfig } from './kernels/Select.js';
import { signConfig } from './kernels/Sign.js';
import { reluConfig } from './kernels/Relu.js';
import { relu6Config } from './kernels/Relu6.js';
import { clipByValueConfig } from './kernels/ClipByValue.js';
import { fusedMatMulConfig } from './kernels/FusedMatMul.js';
import { identityConfig } from './kernels/Identity.js';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad.js';
import { meanConfig } from './kernels/Mean.js';
import { sumConfig } from './kernels/Sum.js';
import { tileConfig } from './kernels/Tile.js';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';

/** Kernels stock tfjs-backend-wasm 4.22 lacks; a later release that ships one keeps its own. */
const missingKernels: KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  unsortedSegmentSumConfig,
];

/**
 * Kernels the backend has but runs far slower than XNNPACK allows (or, for MaxPoolGrad, wrongly). Each
 * delegates the cases it does not speed up to the stock kernel, so it is only registered over one.
 */
const fasterKernels: KernelConfig[] = [
  conv2DBackpropInputConfig,
  conv2DConfig,
  fusedConv2DConfig,
  batchMatMulConfig,
  maxPoolGradConfig,
  identityConfig,
  castConfig,
  sumConfig,
  meanConfig,
  tileConfig,
  greaterEqualConfig,
  lessEqualConfig,
  greaterConfig,
  lessConfig,
  logicalAndConfig,
  selectConfig,
];

/**
 * Kernels the stock backend computes wrongly: each gives the cpu backend's result (found by the
 * differential audit in `test/kernel-audit.int.spec.ts`; see the README's "Stock bugs found").
 */
const correctedKernels: KernelConfig[] = [signConfig, reluConfig, relu6Config, clipByValueConfig, fusedMatMulConfig];

const registered = new Set<string>();

/**
 * Registers, on the `'wasm'` backend, every kernel needed to train and attack conv nets that stock
 * tfjs-backend-wasm 4.22 lacks, plus faster replacements for slow ones. A replaced kernel keeps the
 * original's `setupFunc` (its C++ bindings still initialise with the backend) and is restored by
 * {@link unregisterWasmTrainingKernels}. Idempotent; importing the package already calls it.
 *
 * @returns the names of the kernels this package has registered, in registration order.
 * @example
 * ```ts
 * import { registerWasmTrainingKernels } from '@tempered/wasm-train';
 * registerWasmTrainingKernels(); // ['Conv2DBackpropFilter', ..., 'Conv2DBackpropInput', ..., 'Sum']
 * await tf.setBackend('wasm');
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  for (const config of missingKernels) {
    if (registered.has(config.kernelName) || getKernel(config.kernelName, WASM) !== undefined) continue;
    registerKernel(config);
    registered.add(config.kernelName);
  }
  for (const config of [...fasterKernels, ...correctedKernels]) {
    if (registered.has(config.kernelName)) continue;
    const original = getKernel(config.kernelName, WASM);
    if (original === undefined) continue;
    originalWasmKernels.set(config.kernelName, original);
    unregisterKernel(config.kernelName, WASM);
    registerKernel({ ...config, setupFunc: original.setupFunc });
    registered.add(config.kernelName);
  }
  return [...registered];
}

/**
 * Removes every kernel {@link registerWasmTrainingKernels} registered and puts back the stock kernels it
 * replaced, so specs can compare implementations or measure the stock backend.
 *
 * @returns the names of the kernels removed.
 */
export function unregisterWasmTrainingKernels(): string[] {
  const removed = [...registered];
  for (const name of removed) {
    unregisterKernel(name, WASM);
    const original = originalWasmKernels.get(name);
    if (original !== undefined) registerKernel(original);
    originalWasmKernels.delete(name);
    registered.delete(name);
  }
  return removed;
}
