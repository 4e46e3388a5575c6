import type { GradientHistogram } from './schema.js';
import { mean, median } from './stats.js';

/**
 * The log10 axis of a gradient-norm histogram by default: float32 subnormals reach 1e-45, so
 * the first edge is 1e-45; the last is 1e5; one bin per power of ten. The `gradient-norms`
 * metric (in `@tempered/evaluation`) takes its parameter defaults from here.
 */
export const DEFAULT_HISTOGRAM_AXIS = { minExponent: -45, maxExponent: 5, binsPerDecade: 1 } as const;

/** What a histogram records about how its norms were taken, and its log10 axis. */
export interface HistogramOptions {
  /** 'probability': softmax output of the predicted class; 'loss': cross-entropy against the label. */
  readonly quantity: 'probability' | 'loss';
  /** Norm of each example's input gradient. */
  readonly norm: 'l1' | 'l2';
  /** Softmax temperature the gradients were taken at. */
  readonly temperature: number;
  /** log10 of the first edge. */
  readonly minExponent: number;
  /** log10 of the last edge. */
  readonly maxExponent: number;
  /** Bins per power of ten. */
  readonly binsPerDecade: number;
}

/** Bins per-example gradient norms on a log10 axis (exact zeros, non-finite, underflow and overflow apart). */
export function gradientHistogram(norms: readonly number[], params: HistogramOptions): GradientHistogram {
  const { minExponent, maxExponent, binsPerDecade } = params;
  const bins = (maxExponent - minExponent) * binsPerDecade;
  const binEdges = Array.from({ length: bins + 1 }, (_, i) => minExponent + i / binsPerDecade);
  const counts = new Array<number>(bins).fill(0);
  let zeros = 0;
  let nonFinite = 0;
  let underflow = 0;
  let overflow = 0;
  const finiteNorms: number[] = [];
  for (const value of norms) {
    if (!Number.isFinite(value)) {
      nonFinite++;
      continue;
    }
    finiteNorms.push(value);
    if (value === 0) {
      zeros++;
      continue;
    }
    const exponent = Math.log10(value);
    if (exponent < minExponent) underflow++;
    else if (exponent >= maxExponent) overflow++;
    else counts[Math.min(bins - 1, Math.floor((exponent - minExponent) * binsPerDecade))]!++;
  }
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    quantity: params.quantity,
    norm: params.norm,
    temperature: params.temperature,
    binEdges,
    counts,
    zeros,
    nonFinite,
    underflow,
    overflow,
    count: norms.length,
    mean: finite(mean(finiteNorms)),
    median: finite(median(finiteNorms)),
  };
}
