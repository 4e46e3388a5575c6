import type { AttackSummary, Diagnostic, ModelResults, ThreatModelResult } from '../schema.js';

/**
 * What each threshold of the checks means, with its default (also in docs/reading-a-report.md
 * and, from here, in the config schema's descriptions). Pass overrides as
 * `diagnostics.thresholds` to `evaluate` (or `diagnose`).
 */
export const DIAGNOSTIC_THRESHOLD_DESCRIPTIONS = {
  iterativeTolerance: "A single-step attack may break at most this share of the examples that every iterative attack of its threat model left robust. Default 0.02.",
  largeEpsilonRobustAccuracy: "Robust accuracy at an ε covering the whole input range must be at most this. Default 0.05.",
  sweepMonotonicTolerance: "Robust accuracy may rise with ε by this much before the sweep counts as non-monotonic. Default 0.05.",
  strongerAttackGap: "Success-rate or robust-accuracy gap between margin-loss PGD or C&W (within ε) and cross-entropy PGD that counts as masking. Default 0.1.",
  vanishingGradientNorm: "Median ‖∇ₓ CE‖₂ at T = 1 below this counts as vanishing. Default 1e-6.",
  zeroGradientFraction: "A share of examples with an all-zero input gradient above this is flagged. Default 0.05.",
  blackBoxTolerance: "Black-box attacks (Square) may break at most this share of the examples white-box attacks left robust. Default 0.01.",
  restartTolerance: "Another random start may break at most this share of the re-run examples the threat model left robust. Default 0.02.",
  moreStepsTolerance: "Twice the steps may break at most this share of the re-run examples the threat model left robust. Default 0.02.",
  transferTolerance: "Adversarials transferred from the transfer source (evaluation.transferFrom) may break at most this share of the examples the white-box attacks left robust. Default 0.01.",
  degenerateMargin: "A model whose clean accuracy is at most chance (1 / classes) plus this is degenerate and gets no masking verdict. Default 0.1.",
} as const;

/** Thresholds of the checks (each described in {@link DIAGNOSTIC_THRESHOLD_DESCRIPTIONS}). */
export type DiagnosticThresholds = { readonly [K in keyof typeof DIAGNOSTIC_THRESHOLD_DESCRIPTIONS]: number };

export const DEFAULT_DIAGNOSTIC_THRESHOLDS: DiagnosticThresholds = {
  iterativeTolerance: 0.02,
  largeEpsilonRobustAccuracy: 0.05,
  sweepMonotonicTolerance: 0.05,
  strongerAttackGap: 0.1,
  vanishingGradientNorm: 1e-6,
  zeroGradientFraction: 0.05,
  blackBoxTolerance: 0.01,
  restartTolerance: 0.02,
  moreStepsTolerance: 0.02,
  transferTolerance: 0.01,
  degenerateMargin: 0.1,
};

export type Evidence = Diagnostic['evidence'];

export function flagged(id: string, message: string, evidence: Evidence): Diagnostic {
  return { id, status: 'flagged', severity: 'warning', message, evidence };
}

export function passed(id: string, message: string, evidence: Evidence = {}): Diagnostic {
  return { id, status: 'passed', severity: 'info', message, evidence };
}

export function notRun(id: string, why: string): Diagnostic {
  return { id, status: 'not-run', severity: 'info', message: `check not run: ${why}`, evidence: {} };
}

export function fmt(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`;
}

export type Entry = readonly [key: string, summary: AttackSummary];

export const SAME_EPSILON = 1e-9;

export function isSingleStep([, a]: Entry): boolean {
  // By construction, not by meanIterations: PGD reports the iteration of first success, which
  // averages ≤ 1 on a weak model and would make PGD look single-step.
  return a.traits?.singleStep === true || (a.params['steps'] === 1 && a.epsilon !== null);
}

export function isMarginLoss([, a]: Entry): boolean {
  const loss = a.params['loss'];
  return typeof loss === 'string' && /margin|cw|dlr/i.test(loss);
}

/**
 * Whether a name in a threat model's `ran` (an attack key, or `key/component` of an ensemble) is
 * a score-based black-box attack, as the attack declared (`traits`): it never reads a gradient,
 * so masking cannot stop it. Results written before attacks declared traits count as white-box.
 */
export function isBlackBoxRun(name: string, attacks: Readonly<Record<string, AttackSummary>>): boolean {
  const slash = name.indexOf('/');
  if (slash < 0) return attacks[name]?.traits?.blackBox === true;
  return attacks[name.slice(0, slash)]?.traits?.blackBoxComponents.includes(name.slice(slash + 1)) === true;
}

/** Bounded, untargeted, iterative, white-box attacks (PGD, APGD, an ensemble such as AutoAttack). */
export function isIterative(entry: Entry): boolean {
  const [, a] = entry;
  return a.mode === 'untargeted' && a.epsilon !== null && a.kind !== 'minimum-distortion' && !isSingleStep(entry) && a.traits?.blackBox !== true;
}

/** Iterative attacks with a cross-entropy loss alone (the usual PGD): not margin/DLR losses, not ensembles. */
export function isCrossEntropyIterative(entry: Entry): boolean {
  const [, a] = entry;
  return isIterative(entry) && !isMarginLoss(entry) && a.ran === undefined && a.traits?.ensemble !== true;
}

export function sameBudget(a: AttackSummary, b: AttackSummary): boolean {
  return a.norm === b.norm && a.epsilon !== null && b.epsilon !== null && Math.abs(a.epsilon - b.epsilon) < SAME_EPSILON;
}

/** Threat models of a model, as [key, result] pairs. */
export function threatModelsOf(model: ModelResults): Array<[string, ThreatModelResult]> {
  return Object.entries(model.threatModels ?? {});
}

/** Examples any of `names` broke in a threat model (per-example data; undefined when not kept). */
export function brokenByAny(threatModel: ThreatModelResult, names: readonly string[]): Set<number> | undefined {
  if (!threatModel.broken) return undefined;
  const out = new Set<number>();
  for (const name of names) for (const e of threatModel.broken[name] ?? []) out.add(e);
  return out;
}
