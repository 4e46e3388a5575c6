/**
 * @tempered/reports/node: the Node-only half of reports. Evaluation (in-process or on a
 * worker-thread pool), the evaluation-speedup bench, and reading/writing results.json,
 * report.md and report.html. It re-exports the main entry too, so a Node program can import
 * everything from here.
 * @packageDocumentation
 */
export * from './index.js';
export { evaluate, TEMPERED_VERSION } from './evaluation/evaluate.js';
export { EvaluationPool, serializeModel, workerEntry } from './pool.js';
export type { PoolOptions, SerializedModel } from './pool.js';
export { benchEvaluationSpeedup } from './bench.js';
export type { SpeedupOptions, SpeedupResult } from './bench.js';
export { readResults, writeResults, renderReports, mergeReports, RESULTS_FILE, REPORT_MARKDOWN, REPORT_HTML } from './reports.js';
