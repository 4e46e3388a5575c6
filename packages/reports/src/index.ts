/**
 * @tempered/reports: metrics, gradient-masking diagnostics, and the results.json schema with
 * its Markdown and HTML renderers.
 *
 * This entry imports no Node built-in, so it bundles for the browser. Evaluation (in-process or
 * on a worker-thread pool), the evaluation bench and reading/writing report files are in
 * `@tempered/reports/node`.
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
export { GradientNormsMetric, GRADIENT_NORMS_PARAMS, EVALUATED_MODEL, gradientHistogram, vectorNorm } from './metrics/gradient-norms.js';
export type { GradientNormsParams } from './metrics/gradient-norms.js';
export { attackRows } from './metrics/rows.js';
export type { IndexedEvaluationBatch } from './metrics/rows.js';

export {
  diagnose,
  hasMaskingWarning,
  checkIterativeVersusSingleStep,
  checkEpsilonSweep,
  checkStrongerAttacks,
  checkVanishingGradients,
  checkBlackBox,
  checkReruns,
  checkDegenerate,
  isDegenerate,
  MASKING_CHECK_IDS,
  DEFAULT_DIAGNOSTIC_THRESHOLDS,
  DIAGNOSTIC_THRESHOLD_DESCRIPTIONS,
} from './diagnostics.js';
export type { DiagnosticThresholds } from './diagnostics.js';

export type { EvaluationOptions, ModelUnderEvaluation, AttackConfig, MetricConfig, DiagnosticsOptions, SweepOptions, RerunOptions } from './evaluation/options.js';
export { attackKind } from './evaluation/attack-run.js';
export { defaultTransferSource } from './evaluation/reruns.js';
export { computeThreatModels, perClassAccuracy } from './threat-models.js';
export type { AttackRun, CleanOutcome } from './threat-models.js';
export { fixedBatches, splitContiguous, runAttackBatches } from './attack-batches.js';
export type { AttackJob, AttackBatchOutput, BatchRange, ExampleSlice } from './attack-batches.js';

export { RESULTS_SCHEMA_VERSION, RESULTS_JSON_SCHEMA, threatModelKey } from './schema.js';
export { parseResults } from './parse-results.js';
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
  AttackKind,
  ThreatModelResult,
  ClassAccuracy,
  Rerun,
  SeedSpecific,
  Interval,
  Comparisons,
  PairedComparison,
  SeedComparison,
  MetricValue,
  PluginMetricResult,
  RecordedAttackTraits,
} from './schema.js';
export { mergeResults } from './merge.js';
export { renderMarkdown, documentToMarkdown } from './render-markdown.js';
export { buildReport, teacherDescription, teacherVerdicts, studentsOf, percent, rate } from './report-model.js';
export type { ReportDocument, Block, Span, Verdict, Figure, TradeoffPoint } from './report-model.js';
export { renderHtml, documentToHtml, escapeHtml, lineChart, histogramChart, tradeoffChart } from './render-html.js';
export { encodePng, pngDataUri, crc32, diverging, imageToRgb, perturbationToRgb } from './png.js';
export { mean, median, std, wilsonInterval, rateInterval, Z_95 } from './stats.js';
export {
  binomialHalfCdf, mcnemarExact, newcombePairedInterval, holmAdjust, mcnemarSampleSize, minimumDetectableDifference,
  pairedTable, pairedTTest, studentTTwoSided, normalCdf, normalQuantile, Z_POWER_80,
} from './paired.js';
export type { PairedTable, SeedTest } from './paired.js';
export { markTeachers } from './teachers.js';
export { compareModels, compareAcrossSeeds, comparisonsOf, withComparisons, relationOf, COMPARISON_ALPHA, COMPARISON_POWER, CLEAN } from './comparisons.js';
