/** Small numeric helpers shared by metrics, merging and rendering (plain numbers, no tensors). */

/** Arithmetic mean; NaN for an empty list (an undefined statistic, rendered as "n/a"). */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** The median (mean of the two middle values for an even count), defined once in core. */
export { median } from '@tempered/core/pure';

/** Sample standard deviation (n − 1); 0 for a single value, NaN for none. */
export function std(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  if (values.length === 1) return 0;
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i]! - m) ** 2;
  return Math.sqrt(sum / (values.length - 1));
}

/** JSON has no NaN: undefined statistics are stored as null. */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** A two-sided confidence interval [lower, upper] of a proportion. */
export type Interval = readonly [lower: number, upper: number];

/** z of a two-sided 95 % normal interval (Φ⁻¹(0.975)). */
export const Z_95 = 1.959963984540054;

/**
 * Wilson score interval of a proportion with `successes` out of `trials` (Wilson 1927; the
 * interval Brown, Cai & DasGupta 2001 recommend for small n): unlike the normal approximation
 * it stays inside [0, 1] and is not degenerate at 0 or n successes. `successes` may be
 * fractional (a mean over seeds times n). Null when `trials` is 0.
 *
 * centre = (p̂ + z²/2n) / (1 + z²/n), half-width = z·√(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n).
 * At p̂ = 0 and p̂ = 1 the bound at the edge is exactly 0 or 1 (the formula gives centre = half
 * there, which floating point turns into ±1e-18), and the other is z²/(n + z²) from it.
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): Interval | null {
  if (!(trials > 0) || !Number.isFinite(successes)) return null;
  const p = Math.min(1, Math.max(0, successes / trials));
  const z2 = z * z;
  if (p === 0) return [0, z2 / (trials + z2)];
  if (p === 1) return [trials / (trials + z2), 1];
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The Wilson interval of a rate measured over `trials`, or null when either is undefined. */
export function rateInterval(rate: number | null | undefined, trials: number | null | undefined): Interval | null {
  if (rate === null || rate === undefined || trials === null || trials === undefined || !Number.isFinite(rate)) return null;
  return wilsonInterval(rate * trials, trials);
}
