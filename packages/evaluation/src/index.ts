/**
 * @tempered/evaluation: the evaluation engine. Metric plugins (registered by `register`), attack
 * runs over fixed batches, threat models (worst case over attacks per example), and the
 * attack-side of the gradient-masking checks (the ε sweep and the re-runs that feed the verdicts
 * of `@tempered/reports`). It writes into the results schema of `@tempered/reports` and needs
 * TensorFlow.js and `@tempered/attacks`.
 *
 * This entry imports no Node built-in. `evaluate` (in-process or on a worker-thread pool), the
 * pool itself and the evaluation bench are in `@tempered/evaluation/node`.
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
export { GradientNormsMetric, GRADIENT_NORMS_PARAMS, EVALUATED_MODEL, vectorNorm } from './metrics/gradient-norms.js';
export type { GradientNormsParams } from './metrics/gradient-norms.js';
export { attackRows } from './metrics/rows.js';
export type { IndexedEvaluationBatch } from './metrics/rows.js';

export type { EvaluationOptions, ModelUnderEvaluation, AttackConfig, MetricConfig, DiagnosticsOptions, SweepOptions, RerunOptions } from './evaluation/options.js';
export { attackKind } from './evaluation/attack-run.js';
export { defaultTransferSource } from './evaluation/reruns.js';
export { computeThreatModels, perClassAccuracy } from './threat-models.js';
export type { AttackRun, CleanOutcome } from './threat-models.js';
export { fixedBatches, splitContiguous, runAttackBatches } from './attack-batches.js';
export type { AttackJob, AttackBatchOutput, BatchRange, ExampleSlice } from './attack-batches.js';
