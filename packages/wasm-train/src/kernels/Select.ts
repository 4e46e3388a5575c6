import { Select } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { selectKernel } from '../elementwise.js';
import { WASM } from '../kernel_utils.js';

/** `Select` (`tf.where`) on wasm SIMD for a bool condition and float32 branches of one shape (see `elementwise.ts`). */
export const selectConfig: KernelConfig = {
  kernelName: Select,
  backendName: WASM,
  kernelFunc: selectKernel as unknown as KernelFunc,
};
