/** Small numeric helpers shared by metrics, merging and rendering (plain numbers, no tensors). */

/** Arithmetic mean; NaN for an empty list (an undefined statistic, rendered as "n/a"). */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** Median (mean of the two middle values for an even count); NaN for an empty list. */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Sample standard deviation (n − 1); 0 for a single value, NaN for none. */
export function std(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  if (values.length === 1) return 0;
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i]! - m) ** 2;
  return Math.sqrt(sum / (values.length - 1));
}

/** `part / whole`, NaN when `whole` is 0 (e.g. a success rate with no attackable example). */
export function ratio(part: number, whole: number): number {
  return whole === 0 ? Number.NaN : part / whole;
}

/** JSON has no NaN: undefined statistics are stored as null. */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
