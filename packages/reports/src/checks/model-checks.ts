import type { Diagnostic, ModelResults } from '../schema.js';
import { DEFAULT_DIAGNOSTIC_THRESHOLDS, flagged, fmt, notRun, passed, SAME_EPSILON } from './common.js';

/** Checks of the model and its loss surface (Carlini et al. 2019, §5; Athalye et al. 2018). */

const LARGE_EPSILON = 'no-convergence-at-large-epsilon';
const MONOTONIC = 'non-monotonic-epsilon-sweep';

/** Robust accuracy does not fall towards 0 as ε grows to cover the input range, or rises with ε. */
export function checkEpsilonSweep(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const sweep = model.epsilonSweep;
  const points = (sweep?.points ?? []).filter((p) => p.robustAccuracy !== null);
  if (!sweep || points.length === 0) return [notRun(LARGE_EPSILON, 'no ε sweep was run'), notRun(MONOTONIC, 'no ε sweep was run')];
  const out: Diagnostic[] = [];
  const sorted = [...points].sort((a, b) => a.epsilon - b.epsilon);
  const largest = sorted[sorted.length - 1]!;
  const coversRange = sweep.norm === 'linf' && largest.epsilon >= sweep.range - SAME_EPSILON;
  const evidence = { attack: sweep.attack, epsilon: largest.epsilon, robustAccuracy: largest.robustAccuracy, evaluated: sweep.evaluated, threshold: thresholds.largeEpsilonRobustAccuracy };
  if (!coversRange) out.push(notRun(LARGE_EPSILON, `the ε sweep stops at ${largest.epsilon}, below the input range ${sweep.range}`));
  else if (largest.robustAccuracy! > thresholds.largeEpsilonRobustAccuracy) {
    out.push(
      flagged(
        LARGE_EPSILON,
        `${sweep.attack} at L∞ ε = ${largest.epsilon} (the whole input range, where any image can become any other) leaves robust accuracy ` +
          `${fmt(largest.robustAccuracy)}; it should reach ~0. The attack cannot follow the gradient: a sign of gradient masking.`,
        evidence,
      ),
    );
  } else out.push(passed(LARGE_EPSILON, `robust accuracy falls to ${fmt(largest.robustAccuracy)} at ε = ${largest.epsilon}`, evidence));
  for (let i = 1; i < sorted.length; i++) {
    const rise = sorted[i]!.robustAccuracy! - sorted[i - 1]!.robustAccuracy!;
    if (rise > thresholds.sweepMonotonicTolerance) {
      out.push(
        flagged(
          MONOTONIC,
          `robust accuracy rises from ${fmt(sorted[i - 1]!.robustAccuracy)} at ε = ${sorted[i - 1]!.epsilon} to ${fmt(sorted[i]!.robustAccuracy)} ` +
            `at ε = ${sorted[i]!.epsilon}; a larger budget contains the smaller one, so the attack is failing to optimise.`,
          {
            attack: sweep.attack, smallerEpsilon: sorted[i - 1]!.epsilon, largerEpsilon: sorted[i]!.epsilon,
            smallerRobustAccuracy: sorted[i - 1]!.robustAccuracy, largerRobustAccuracy: sorted[i]!.robustAccuracy, tolerance: thresholds.sweepMonotonicTolerance,
          },
        ),
      );
      return out;
    }
  }
  out.push(passed(MONOTONIC, 'robust accuracy does not rise with ε', { attack: sweep.attack, tolerance: thresholds.sweepMonotonicTolerance }));
  return out;
}

const GRADIENTS = 'vanishing-gradients';

/** Zero (every component 0), non-finite or vanishing input gradients of the loss at T = 1. */
export function checkVanishingGradients(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const histogram = model.lossGradientHistogram;
  if (!histogram || histogram.count === 0) return [notRun(GRADIENTS, 'no input gradients were measured')];
  const zeroFraction = histogram.zeros / histogram.count;
  const nonFinite = histogram.nonFinite ?? 0;
  const median = histogram.median;
  const evidence = {
    medianGradientNorm: median, zeroFraction, nonFinite, examples: histogram.count,
    threshold: thresholds.vanishingGradientNorm, zeroFractionThreshold: thresholds.zeroGradientFraction,
  };
  if (nonFinite > 0 || (median !== null && median < thresholds.vanishingGradientNorm) || zeroFraction > thresholds.zeroGradientFraction) {
    return [
      flagged(
        GRADIENTS,
        `the input gradient of the cross-entropy loss at T = 1 has median ${histogram.norm.toUpperCase()} norm ` +
          `${median === null ? 'n/a' : median.toExponential(2)}, is exactly zero (every component) for ${fmt(zeroFraction)} of the examples` +
          `${nonFinite > 0 ? ` and not finite for ${nonFinite}` : ''}: gradient attacks get no signal (gradient masking, not robustness).`,
        evidence,
      ),
    ];
  }
  return [passed(GRADIENTS, `median ${histogram.norm.toUpperCase()} norm ${median === null ? 'n/a' : median.toExponential(2)}, ${fmt(zeroFraction)} exactly zero`, evidence)];
}

export const DEGENERATE = 'degenerate-model';

/** A model at or near chance accuracy never learned; robustness numbers of it mean nothing. */
export function checkDegenerate(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic {
  if (!model.classes) return notRun(DEGENERATE, 'the number of classes is not recorded');
  const chance = 1 / model.classes;
  const evidence = { cleanAccuracy: model.cleanAccuracy, chance, margin: thresholds.degenerateMargin };
  if (model.cleanAccuracy <= chance + thresholds.degenerateMargin) {
    return flagged(
      DEGENERATE,
      `clean accuracy ${fmt(model.cleanAccuracy)} is at or near chance (${fmt(chance)}): the model did not learn, so its robust accuracy ` +
        'and the masking checks say nothing about a defence. Fix training first.',
      evidence,
    );
  }
  return passed(DEGENERATE, `clean accuracy ${fmt(model.cleanAccuracy)} is well above chance (${fmt(chance)})`, evidence);
}
