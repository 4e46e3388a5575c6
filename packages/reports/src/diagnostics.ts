import type { AttackSummary, Diagnostic, ModelResults } from './schema.js';

/**
 * Gradient-masking checks from the evaluation literature, as pure functions over a model's
 * results: Athalye, Carlini & Wagner, "Obfuscated Gradients Give a False Sense of Security"
 * (ICML 2018), and Carlini et al., "On Evaluating Adversarial Robustness" (2019), §§ 4–5.
 * Each finding is a {@link Diagnostic}; `warning` means the robustness numbers are suspect.
 */
export interface DiagnosticThresholds {
  /** Check 1: an iterative attack may trail a single-step one at the same ε by this much robust accuracy. Default 0.02. */
  readonly iterativeTolerance: number;
  /** Check 2: robust accuracy at an ε covering the whole input range must be at most this. Default 0.1. */
  readonly largeEpsilonRobustAccuracy: number;
  /** Check 2: robust accuracy may rise with ε by this much before the sweep counts as non-monotonic. Default 0.05. */
  readonly sweepMonotonicTolerance: number;
  /** Check 3: success-rate or robust-accuracy gap between a stronger attack and CE-PGD that counts as masking. Default 0.3. */
  readonly strongerAttackGap: number;
  /** Check 4: median ‖∇ₓ CE‖ at T = 1 below this counts as vanishing. Default 1e-6. */
  readonly vanishingGradientNorm: number;
  /** Check 4: a share of exactly-zero gradients above this counts as vanishing. Default 0.5. */
  readonly zeroGradientFraction: number;
}

export const DEFAULT_DIAGNOSTIC_THRESHOLDS: DiagnosticThresholds = {
  iterativeTolerance: 0.02,
  largeEpsilonRobustAccuracy: 0.1,
  sweepMonotonicTolerance: 0.05,
  strongerAttackGap: 0.3,
  vanishingGradientNorm: 1e-6,
  zeroGradientFraction: 0.5,
};

type Entry = readonly [key: string, summary: AttackSummary];

const SAME_EPSILON = 1e-9;

function isSingleStep([, a]: Entry): boolean {
  // By construction, not by meanIterations: PGD reports the iteration of first success, which
  // averages ≤ 1 on a weak model and would make PGD look single-step.
  return a.name === 'fgsm' || (a.params['steps'] === 1 && a.epsilon !== null);
}

function isMarginLoss([, a]: Entry): boolean {
  const loss = a.params['loss'];
  return typeof loss === 'string' && /margin|cw|dlr/i.test(loss);
}

/** Bounded, untargeted, iterative attacks with a cross-entropy loss (the usual PGD). */
function isCrossEntropyIterative(entry: Entry): boolean {
  const [, a] = entry;
  return a.mode === 'untargeted' && a.epsilon !== null && !isSingleStep(entry) && !isMarginLoss(entry) && a.name !== 'cw';
}

function sameBudget(a: AttackSummary, b: AttackSummary): boolean {
  return a.norm === b.norm && a.epsilon !== null && b.epsilon !== null && Math.abs(a.epsilon - b.epsilon) < SAME_EPSILON;
}

/** Check 1: an iterative attack weaker than a single-step one at the same budget. */
export function checkIterativeVersusSingleStep(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const entries = Object.entries(model.attacks).filter(([, a]) => a.mode === 'untargeted');
  const out: Diagnostic[] = [];
  let pairs = 0;
  for (const single of entries.filter(isSingleStep)) {
    for (const iterative of entries.filter(isCrossEntropyIterative)) {
      if (!sameBudget(single[1], iterative[1])) continue;
      const singleAccuracy = single[1].robustAccuracy;
      const iterativeAccuracy = iterative[1].robustAccuracy;
      if (singleAccuracy === null || iterativeAccuracy === null) continue;
      pairs++;
      if (iterativeAccuracy > singleAccuracy + thresholds.iterativeTolerance) {
        out.push({
          id: 'iterative-weaker-than-single-step',
          severity: 'warning',
          message:
            `${iterative[0]} (iterative) leaves robust accuracy ${fmt(iterativeAccuracy)} but ${single[0]} (single step) ` +
            `${fmt(singleAccuracy)} at the same ${single[1].norm} ε = ${single[1].epsilon}: an iterative attack should be ` +
            'at least as strong; the loss surface is likely masked or the attack misconfigured.',
          evidence: {
            singleStepAttack: single[0],
            iterativeAttack: iterative[0],
            epsilon: single[1].epsilon,
            singleStepRobustAccuracy: singleAccuracy,
            iterativeRobustAccuracy: iterativeAccuracy,
            tolerance: thresholds.iterativeTolerance,
          },
        });
      }
    }
  }
  if (pairs === 0) out.push(skipped('iterative-weaker-than-single-step', 'no single-step and iterative untargeted attack share a norm and ε'));
  return out;
}

/** Check 2: robust accuracy does not fall towards 0 as ε grows to cover the input range. */
export function checkEpsilonSweep(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const sweep = model.epsilonSweep;
  const points = (sweep?.points ?? []).filter((p) => p.robustAccuracy !== null);
  if (!sweep || points.length === 0) return [skipped('no-convergence-at-large-epsilon', 'no ε sweep was run')];
  const out: Diagnostic[] = [];
  const sorted = [...points].sort((a, b) => a.epsilon - b.epsilon);
  const largest = sorted[sorted.length - 1]!;
  const coversRange = sweep.norm === 'linf' && largest.epsilon >= sweep.range - SAME_EPSILON;
  if (coversRange && largest.robustAccuracy! > thresholds.largeEpsilonRobustAccuracy) {
    out.push({
      id: 'no-convergence-at-large-epsilon',
      severity: 'warning',
      message:
        `${sweep.attack} at L∞ ε = ${largest.epsilon} (the whole input range, where any image can become any other) ` +
        `leaves robust accuracy ${fmt(largest.robustAccuracy!)}; it should reach ~0. The attack cannot follow the ` +
        'gradient: a sign of gradient masking.',
      evidence: {
        attack: sweep.attack,
        epsilon: largest.epsilon,
        robustAccuracy: largest.robustAccuracy,
        threshold: thresholds.largeEpsilonRobustAccuracy,
      },
    });
  } else if (!coversRange) {
    out.push(skipped('no-convergence-at-large-epsilon', `the ε sweep stops at ${largest.epsilon}, below the input range ${sweep.range}`));
  }
  for (let i = 1; i < sorted.length; i++) {
    const rise = sorted[i]!.robustAccuracy! - sorted[i - 1]!.robustAccuracy!;
    if (rise > thresholds.sweepMonotonicTolerance) {
      out.push({
        id: 'non-monotonic-epsilon-sweep',
        severity: 'warning',
        message:
          `robust accuracy rises from ${fmt(sorted[i - 1]!.robustAccuracy!)} at ε = ${sorted[i - 1]!.epsilon} to ` +
          `${fmt(sorted[i]!.robustAccuracy!)} at ε = ${sorted[i]!.epsilon}; a larger budget contains the smaller one, ` +
          'so the attack is failing to optimise.',
        evidence: {
          attack: sweep.attack,
          smallerEpsilon: sorted[i - 1]!.epsilon,
          largerEpsilon: sorted[i]!.epsilon,
          smallerRobustAccuracy: sorted[i - 1]!.robustAccuracy,
          largerRobustAccuracy: sorted[i]!.robustAccuracy,
        },
      });
      break;
    }
  }
  return out;
}

/** Check 3: C&W or a margin-loss PGD far stronger than cross-entropy PGD at the same budget. */
export function checkStrongerAttacks(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const entries = Object.entries(model.attacks);
  const references = entries.filter(isCrossEntropyIterative);
  const out: Diagnostic[] = [];
  let comparisons = 0;
  const compare = (reference: Entry, strongName: string, strongSuccess: number | null, strongAccuracy: number | null) => {
    const [refName, ref] = reference;
    if (ref.successRate === null || strongSuccess === null) return;
    comparisons++;
    const successGap = strongSuccess - ref.successRate;
    const accuracyGap = ref.robustAccuracy !== null && strongAccuracy !== null ? ref.robustAccuracy - strongAccuracy : null;
    if (successGap > thresholds.strongerAttackGap || (accuracyGap !== null && accuracyGap > thresholds.strongerAttackGap)) {
      out.push({
        id: 'stronger-attack-gap',
        severity: 'warning',
        message:
          `${strongName} succeeds on ${fmt(strongSuccess)} of the examples but cross-entropy ${refName} on only ` +
          `${fmt(ref.successRate)} within the same ${ref.norm} ε = ${ref.epsilon}: the cross-entropy gradient is ` +
          'uninformative (e.g. saturated softmax), so robustness measured with it is overstated.',
        evidence: {
          referenceAttack: refName,
          strongerAttack: strongName,
          norm: ref.norm,
          epsilon: ref.epsilon,
          referenceSuccessRate: ref.successRate,
          strongerSuccessRate: strongSuccess,
          referenceRobustAccuracy: ref.robustAccuracy,
          strongerRobustAccuracy: strongAccuracy,
          gap: thresholds.strongerAttackGap,
        },
      });
    }
  };
  for (const reference of references) {
    for (const strong of entries) {
      if (strong[1].mode !== 'untargeted') continue;
      if (isMarginLoss(strong) && sameBudget(reference[1], strong[1])) {
        compare(reference, strong[0], strong[1].successRate, strong[1].robustAccuracy);
      }
      for (const budget of strong[1].budgets ?? []) {
        if (budget.norm === reference[1].norm && Math.abs(budget.epsilon - reference[1].epsilon!) < SAME_EPSILON) {
          compare(reference, `${strong[0]} (within ε)`, budget.successRate, budget.robustAccuracy);
        }
      }
    }
  }
  if (comparisons === 0) out.push(skipped('stronger-attack-gap', 'no C&W or margin-loss attack to compare with cross-entropy PGD at the same budget'));
  return out;
}

/** Check 4: vanishing or exactly-zero input gradients of the loss at T = 1. */
export function checkVanishingGradients(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const histogram = model.lossGradientHistogram;
  if (!histogram || histogram.count === 0) return [skipped('vanishing-gradients', 'no input gradients were measured')];
  const zeroFraction = histogram.zeros / histogram.count;
  const median = histogram.median;
  if ((median !== null && median < thresholds.vanishingGradientNorm) || zeroFraction > thresholds.zeroGradientFraction) {
    return [
      {
        id: 'vanishing-gradients',
        severity: 'warning',
        message:
          `the input gradient of the cross-entropy loss at T = 1 has median ${histogram.norm.toUpperCase()} norm ` +
          `${median === null ? 'n/a' : median.toExponential(2)} and is exactly zero for ${fmt(zeroFraction)} of the ` +
          'examples: gradient attacks get no signal (gradient masking, not robustness).',
        evidence: {
          medianGradientNorm: median,
          zeroFraction,
          threshold: thresholds.vanishingGradientNorm,
          zeroFractionThreshold: thresholds.zeroGradientFraction,
          examples: histogram.count,
        },
      },
    ];
  }
  return [];
}

/** Every check, in order. Thresholds may be partly overridden. */
export function diagnose(model: ModelResults, thresholds: Partial<DiagnosticThresholds> = {}): Diagnostic[] {
  const t = { ...DEFAULT_DIAGNOSTIC_THRESHOLDS, ...thresholds };
  return [
    ...checkIterativeVersusSingleStep(model, t),
    ...checkEpsilonSweep(model, t),
    ...checkStrongerAttacks(model, t),
    ...checkVanishingGradients(model, t),
  ];
}

/** True when any check raised a warning. */
export function hasMaskingWarning(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'warning');
}

function skipped(id: string, why: string): Diagnostic {
  return { id, severity: 'info', message: `check not run: ${why}`, evidence: {} };
}

function fmt(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}
