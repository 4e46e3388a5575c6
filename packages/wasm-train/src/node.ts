/**
 * @tempered/wasm-train/node: the Node-only part of wasm-train: the benchmark (it reads process CPU
 * time) and the PyTorch reference timing that the bench runs through a Python subprocess. It
 * re-exports the main entry, which imports no Node built-in and registers the kernels in a browser
 * page as in Node.
 * @packageDocumentation
 */
export * from './index.js';
export { benchPapernotCnn, papernotMnistCnn } from './bench.js';
export type { BenchOptions, BenchResult, KernelProfile } from './bench.js';
export { torchReference, findTorchPython } from './torch-reference.js';
export type { TorchReference } from './torch-reference.js';
