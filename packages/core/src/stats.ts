/** Order statistics on plain numbers, shared by the reports, the benchmarks and the specs. */

/**
 * The median: the middle value of the sorted list, or the mean of the two middle values for an
 * even count (the standard definition); NaN for an empty list. Does not modify `values`.
 *
 * @example
 * ```ts
 * median([3, 1, 2]);    // 2
 * median([4, 1, 3, 2]); // 2.5, the mean of 2 and 3
 * ```
 */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
