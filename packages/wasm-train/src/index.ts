/**
 * `@tempered/wasm-train`: gradient kernels that let the TensorFlow.js wasm backend train conv nets, fast.
 * Importing the package registers them (see {@link registerWasmTrainingKernels}).
 * @packageDocumentation
 */
import { registerWasmTrainingKernels } from './register_all_kernels.js';

export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './register_all_kernels.js';

export { benchPapernotCnn, papernotMnistCnn } from './bench.js';
export type { BenchOptions, BenchResult, KernelProfile } from './bench.js';
export { winogradPath } from './winograd.js';
export { simdOptions, simdKernels } from './simd/simd.js';
export type { SimdKernels } from './simd/simd.js';
export { KernelRecorder, auditKernelCall, auditVariants, EDGE_VALUES, EXACT_KERNELS, RELATIVE_TOLERANCE, KNOWN_WASM_DIFFERENCES } from './audit.js';
export type { KernelCall, RecordedInput, Recording, RecordOptions, Disagreement, KnownDifference, Variant } from './audit.js';

registerWasmTrainingKernels();
