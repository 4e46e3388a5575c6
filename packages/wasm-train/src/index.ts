/**
 * `@tempered/wasm-train`: gradient kernels that let the TensorFlow.js wasm backend train conv nets, fast.
 * Importing the package registers them (see {@link registerWasmTrainingKernels}).
 * @packageDocumentation
 */
import { registerWasmTrainingKernels } from './register_all_kernels.js';

export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './register_all_kernels.js';

registerWasmTrainingKernels();
