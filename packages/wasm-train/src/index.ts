/**
 * `@tempered/wasm-train`: gradient kernels that let the TensorFlow.js wasm backend train conv nets, fast.
 * Importing the package registers them (see {@link registerWasmTrainingKernels}).
 *
 * This entry imports no Node built-in and touches no `process`, so it runs in a browser page. The
 * benchmark (which reads process CPU time) is in `@tempered/wasm-train/node`; the differential kernel
 * audit, test tooling, is in `@tempered/wasm-train/audit`.
 * @packageDocumentation
 */
import { registerWasmTrainingKernels } from './register_all_kernels.js';

export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './register_all_kernels.js';

export { winogradPath } from './winograd.js';
export { simdOptions, simdKernels } from './simd/simd.js';
export type { SimdKernels } from './simd/simd.js';

registerWasmTrainingKernels();
