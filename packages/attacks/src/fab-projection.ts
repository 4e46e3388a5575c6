import type { InputBounds } from '@tempered/core';

/**
 * The smallest step d (in L∞ or L2) that puts `point` on the hyperplane ⟨w, z⟩ = rhs while
 * staying in the box [lo, hi]ᴰ: the projection FAB takes towards a linearised decision boundary
 * (Croce & Hein 2020, section 3.1). When the hyperplane misses the box, d is the box corner that
 * gets closest to it (every coordinate moved as far as the box allows in the helpful direction).
 *
 * Both norms reduce to one monotone piecewise-linear equation. To lower |⟨w, point⟩ − rhs| = need,
 * coordinate j moves in the direction −sign(c)·sign(w_j) and can move at most `room_j` before it
 * hits the box. L∞: with radius s every coordinate moves min(s, room_j), changing ⟨w, ·⟩ by
 * |w_j|·min(s, room_j). L2 (KKT): d_j ∝ w_j clipped to the box, i.e. |w_j|·min(s, room_j/|w_j|),
 * changing ⟨w, ·⟩ by w_j²·min(s, room_j/|w_j|). So with slope σ_j and breakpoint b_j,
 * Σ_j σ_j·min(s, b_j) = need is solved exactly: a quickselect over the breakpoints finds the
 * linear piece that holds the solution in expected O(D) (a full sort would be O(D log D)).
 *
 * `out` receives d (length D). Inputs are one example's flat values and the plane's normal.
 */
export function projectOntoPlane(
  point: ArrayLike<number>,
  w: ArrayLike<number>,
  rhs: number,
  norm: 'linf' | 'l2',
  bounds: InputBounds,
  out: Float32Array,
  scratch: ProjectionScratch,
): void {
  const size = point.length;
  let c = -rhs;
  for (let j = 0; j < size; j++) c += w[j]! * point[j]!;
  const need = Math.abs(c);
  const lower = c >= 0; // lower ⟨w, ·⟩ when above the plane, raise it when below
  const { breakpoint, slope, order } = scratch;
  let count = 0;
  let total = 0;
  for (let j = 0; j < size; j++) {
    const wj = w[j]!;
    // As the authors: L∞ ignores exact zeros of w, L2 anything below 1e-8.
    const magnitude = Math.abs(wj);
    if (norm === 'linf' ? wj === 0 : magnitude < ZERO_WEIGHT_L2) continue;
    const up = lower ? wj < 0 : wj > 0;
    const room = up ? bounds.max - point[j]! : point[j]! - bounds.min;
    if (!(room > 0)) continue;
    const b = norm === 'linf' ? room : room / magnitude;
    const s = norm === 'linf' ? magnitude : magnitude * magnitude;
    breakpoint[j] = b;
    slope[j] = s;
    order[count++] = j;
    total += s * b;
  }
  // Solve Σ σ_j·min(s, b_j) = need for s (Infinity: the plane is out of reach, saturate all).
  const radius = need === 0 ? 0 : total <= need ? Infinity : solveRadius(order, count, breakpoint, slope, need);
  out.fill(0);
  for (let k = 0; k < count; k++) {
    const j = order[k]!;
    const wj = w[j]!;
    const up = lower ? wj < 0 : wj > 0;
    const b = breakpoint[j]!;
    const along = Math.min(radius, b);
    const step = norm === 'linf' ? along : Math.abs(wj) * along;
    out[j] = up ? step : -step;
  }
}

const ZERO_WEIGHT_L2 = 1e-8;

/**
 * The s ≥ 0 with Σ σ_j·min(s, b_j) = need over the coordinates order[0, count), given that the
 * left side exceeds need for s large. Three-way partitions around a pivot breakpoint decide, for
 * a shrinking candidate range, which coordinates are saturated (b_j ≤ s) and which still rise
 * with s; `order` is permuted.
 */
function solveRadius(order: Int32Array, count: number, breakpoint: Float64Array, slope: Float64Array, need: number): number {
  let lo = 0;
  let hi = count;
  let saturated = 0; // Σ σ_j·b_j of the coordinates known to be saturated at the solution
  let rising = 0; // Σ σ_j of the coordinates known to be unsaturated
  while (lo < hi) {
    const pivot = breakpoint[order[(lo + hi) >> 1]!]!;
    let less = lo;
    let i = lo;
    let greater = hi;
    let belowSum = 0;
    let pivotSlope = 0;
    let aboveSlope = 0;
    while (i < greater) {
      const j = order[i]!;
      const b = breakpoint[j]!;
      if (b < pivot) {
        order[i++] = order[less]!;
        order[less++] = j;
        belowSum += slope[j]! * b;
      } else if (b > pivot) {
        order[i] = order[--greater]!;
        order[greater] = j;
        aboveSlope += slope[j]!;
      } else {
        i++;
        pivotSlope += slope[j]!;
      }
    }
    const reach = saturated + belowSum + pivot * (rising + pivotSlope + aboveSlope);
    if (reach >= need) {
      rising += pivotSlope + aboveSlope; // s ≤ pivot: these never saturate
      hi = less;
    } else {
      saturated += belowSum + pivotSlope * pivot; // s > pivot: these are saturated
      lo = greater;
    }
  }
  return rising > 0 ? (need - saturated) / rising : Infinity;
}

/** Reusable work arrays for {@link projectOntoPlane} (one per feature count). */
export interface ProjectionScratch {
  readonly breakpoint: Float64Array;
  readonly slope: Float64Array;
  readonly order: Int32Array;
}

export function projectionScratch(size: number): ProjectionScratch {
  return { breakpoint: new Float64Array(size), slope: new Float64Array(size), order: new Int32Array(size) };
}

/** ‖v‖ in the given norm (L∞ or L2), in float64. */
export function normOf(v: ArrayLike<number>, norm: 'linf' | 'l2'): number {
  let acc = 0;
  if (norm === 'linf') {
    for (let j = 0; j < v.length; j++) acc = Math.max(acc, Math.abs(v[j]!));
    return acc;
  }
  for (let j = 0; j < v.length; j++) acc += v[j]! * v[j]!;
  return Math.sqrt(acc);
}

/** ‖a − b‖ in the given norm, in float64. */
export function distance(a: ArrayLike<number>, b: ArrayLike<number>, norm: 'linf' | 'l2'): number {
  let acc = 0;
  for (let j = 0; j < a.length; j++) {
    const diff = Math.abs(a[j]! - b[j]!);
    acc = norm === 'linf' ? Math.max(acc, diff) : acc + diff * diff;
  }
  return norm === 'linf' ? acc : Math.sqrt(acc);
}
