/**
 * @tempered/reports: metrics, gradient-masking diagnostics, evaluation (in-process or on a
 * worker-thread pool), and results.json / report.md / report.html.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { register } from './register.js';

export { CleanAccuracyMetric, CLEAN_ACCURACY_PARAMS } from './metrics/clean-accuracy.js';
export { RobustAccuracyMetric, ROBUST_ACCURACY_PARAMS } from './metrics/robust-accuracy.js';
export { SuccessRateMetric, SUCCESS_RATE_PARAMS } from './metrics/success-rate.js';
export { DistortionMetric, DISTORTION_PARAMS } from './metrics/distortion.js';
export type { DistortionResult } from './metrics/distortion.js';
export { AdversarialRobustnessMetric, ADVERSARIAL_ROBUSTNESS_PARAMS } from './metrics/adversarial-robustness.js';
export { ConfidenceMetric, CONFIDENCE_PARAMS } from './metrics/confidence.js';
export { AgreementMetric, AGREEMENT_PARAMS } from './metrics/agreement.js';
export { WorstCaseRobustAccuracyMetric, WORST_CASE_ROBUST_ACCURACY_PARAMS } from './metrics/worst-case-robust-accuracy.js';
export { GradientNormsMetric, GRADIENT_NORMS_PARAMS, EVALUATED_MODEL, gradientHistogram } from './metrics/gradient-norms.js';
export type { GradientNormsParams } from './metrics/gradient-norms.js';
export { attackRows, L0_TOLERANCE } from './metrics/rows.js';
export type { AttackRow, IndexedEvaluationBatch } from './metrics/rows.js';

export {
  diagnose,
  hasMaskingWarning,
  checkIterativeVersusSingleStep,
  checkEpsilonSweep,
  checkStrongerAttacks,
  checkVanishingGradients,
  DEFAULT_DIAGNOSTIC_THRESHOLDS,
} from './diagnostics.js';
export type { DiagnosticThresholds } from './diagnostics.js';

export { evaluate, TEMPERED_VERSION } from './evaluate.js';
export type { EvaluationOptions, ModelUnderEvaluation, AttackConfig, DiagnosticsOptions, SweepOptions } from './evaluate.js';
export { fixedBatches, splitContiguous, everyOtherClass, runAttackBatches } from './attack-batches.js';
export type { AttackJob, AttackBatchOutput, BatchRange, ExampleSlice } from './attack-batches.js';
export { EvaluationPool, serializeModel, workerEntry } from './pool.js';
export type { PoolOptions, SerializedModel } from './pool.js';
export { benchEvaluationSpeedup } from './bench.js';
export type { SpeedupOptions, SpeedupResult } from './bench.js';

export { RESULTS_SCHEMA_VERSION, RESULTS_JSON_SCHEMA, parseResults } from './schema.js';
export type {
  ResultsFile,
  ModelResults,
  TeacherInfo,
  AttackSummary,
  BudgetedSuccess,
  GradientHistogram,
  EpsilonSweep,
  SweepPoint,
  Diagnostic,
  TrainingCurves,
  TrainingEpoch,
  AdversarialExample,
  ModelSpread,
} from './schema.js';
export { mergeResults } from './merge.js';
export { renderMarkdown, teacherDescription } from './render-markdown.js';
export { renderHtml, escapeHtml, lineChart, histogramChart } from './render-html.js';
export { encodePng, pngDataUri, crc32, diverging } from './png.js';
export { readResults, writeResults, renderReports, mergeReports, RESULTS_FILE, REPORT_MARKDOWN, REPORT_HTML } from './reports.js';
export { mean, median, std } from './stats.js';
