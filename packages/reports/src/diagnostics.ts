import { checkBlackBox, checkIterativeVersusSingleStep, checkReruns, checkStrongerAttacks } from './checks/attack-checks.js';
import { DEFAULT_DIAGNOSTIC_THRESHOLDS, DIAGNOSTIC_THRESHOLD_DESCRIPTIONS, notRun, type DiagnosticThresholds } from './checks/common.js';
import { DEGENERATE, checkDegenerate, checkEpsilonSweep, checkVanishingGradients } from './checks/model-checks.js';
import type { Diagnostic, ModelResults } from './schema.js';

/**
 * The evaluation checklists as pure functions over a model's results: Athalye, Carlini & Wagner,
 * "Obfuscated Gradients Give a False Sense of Security" (ICML 2018); Carlini et al., "On
 * Evaluating Adversarial Robustness" (2019); Pintor et al., "Indicators of Attack Failure:
 * Debugging and Improving Optimization of Adversarial Examples" (NeurIPS 2022). Each check
 * reports `flagged` (with its evidence), `passed` or `not-run` (saying what it needs).
 */
export { DEFAULT_DIAGNOSTIC_THRESHOLDS, DIAGNOSTIC_THRESHOLD_DESCRIPTIONS, type DiagnosticThresholds };
export { checkBlackBox, checkIterativeVersusSingleStep, checkReruns, checkStrongerAttacks, checkDegenerate, checkEpsilonSweep, checkVanishingGradients };

/** The masking checks, in report order. */
const MASKING_CHECKS = [checkIterativeVersusSingleStep, checkEpsilonSweep, checkStrongerAttacks, checkBlackBox, checkReruns, checkVanishingGradients];

/** Ids of the masking checks (each may yield several findings). */
export const MASKING_CHECK_IDS = [
  'iterative-weaker-than-single-step',
  'no-convergence-at-large-epsilon',
  'non-monotonic-epsilon-sweep',
  'stronger-attack-gap',
  'black-box-beats-white-box',
  'restart-changes-result',
  'loss-not-converged',
  'transfer-beats-white-box',
  'vanishing-gradients',
] as const;

/**
 * Every check, in order. A degenerate model (clean accuracy at or near chance) gets that
 * finding and no masking verdict: every masking check is `not-run`. Thresholds may be partly overridden.
 */
export function diagnose(model: ModelResults, thresholds: Partial<DiagnosticThresholds> = {}): Diagnostic[] {
  const t = { ...DEFAULT_DIAGNOSTIC_THRESHOLDS, ...thresholds };
  const degenerate = checkDegenerate(model, t);
  if (degenerate.status === 'flagged') return [degenerate, ...MASKING_CHECK_IDS.map((id) => notRun(id, 'the model is degenerate (at or near chance): no masking verdict'))];
  return [degenerate, ...MASKING_CHECKS.flatMap((check) => check(model, t))];
}

/** True when a masking check raised a warning (a degenerate model is not a masking finding). */
export function hasMaskingWarning(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'warning' && d.id !== DEGENERATE);
}

/** True when the model was found degenerate. */
export function isDegenerate(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.id === DEGENERATE && d.severity === 'warning');
}
