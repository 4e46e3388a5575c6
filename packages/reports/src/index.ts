/**
 * @tempered/reports: the results layer. The results.json schema, parsing and merging results
 * files, paired and across-seed comparisons, the gradient-masking verdicts (pure functions of a
 * model's results), one report document model (the report and the leaderboard) rendered to Markdown and HTML, and PNG images.
 * Everything here is a pure function of a results file: it imports no tfjs, no attack and no
 * Node built-in, so it bundles for the browser on its own. Reading and writing report files is
 * in `@tempered/reports/node`; the evaluation engine that produces results files is
 * `@tempered/evaluation`.
 * @packageDocumentation
 */
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
export { isBlackBoxRun } from './checks/common.js';
export { gradientHistogram, DEFAULT_HISTOGRAM_AXIS } from './histogram.js';
export type { HistogramOptions } from './histogram.js';

export { RESULTS_SCHEMA_VERSION, RESULTS_JSON_SCHEMA, threatModelKey, writtenBy } from './schema.js';
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
  Machine,
  Source,
} from './schema.js';
export { mergeResults } from './merge.js';
export { buildLeaderboard, leaderboardReference, threatModelOrder, rankStudents, seedSummary, referenceComparisons, diagnosticsVerdict } from './leaderboard.js';
export type { SeedSummary, ReferenceComparison } from './leaderboard.js';
export { renderMarkdown, renderLeaderboardMarkdown, documentToMarkdown } from './render-markdown.js';
export { buildReport, teacherDescription, teacherVerdicts, studentsOf, percent, rate } from './report-model.js';
export type { ReportDocument, Block, Span, Verdict, Figure, TradeoffPoint } from './report-model.js';
export { renderHtml, renderLeaderboardHtml, htmlPage, documentToHtml, escapeHtml, lineChart, histogramChart, tradeoffChart } from './render-html.js';
export { encodePng, pngDataUri, crc32, diverging, imageToRgb, perturbationToRgb } from './png.js';
export { mean, median, std, finiteOrNull, wilsonInterval, rateInterval, Z_95 } from './stats.js';
export {
  binomialHalfCdf, mcnemarExact, newcombePairedInterval, holmAdjust, mcnemarSampleSize, minimumDetectableDifference,
  pairedTable, pairedTTest, studentTTwoSided, studentTQuantile, tIntervalOfMean, normalCdf, normalQuantile, Z_POWER_80,
} from './paired.js';
export type { PairedTable, SeedTest } from './paired.js';
export { markTeachers } from './teachers.js';
export { compareModels, compareAcrossSeeds, comparisonsOf, withComparisons, relationOf, COMPARISON_ALPHA, COMPARISON_POWER, CLEAN } from './comparisons.js';
