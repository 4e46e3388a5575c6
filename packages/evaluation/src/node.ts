/**
 * @tempered/evaluation/node: the Node-only half of the engine. `evaluate` (in-process or on a
 * worker-thread pool), the pool, and the evaluation-speedup bench. It re-exports the main entry
 * too, so a Node program can import the engine from here.
 * @packageDocumentation
 */
export * from './index.js';
export { evaluate, TEMPERED_VERSION } from './evaluation/evaluate.js';
export { EvaluationPool, serializeModel, workerEntry } from './pool.js';
export type { PoolOptions, SerializedModel } from './pool.js';
export { benchEvaluationSpeedup } from './bench.js';
export type { SpeedupOptions, SpeedupResult } from './bench.js';
