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
 * Σ_j σ_j·min(s, b_j) = need is solved exactly by sorting the breakpoints.
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
    if (norm === 'linf' ? wj === 0 : magnitude <= ZERO_WEIGHT_L2) continue;
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
  let radius = 0;
  if (need > 0) {
    if (total <= need) {
      radius = Infinity;
    } else {
      const active = order.subarray(0, count).sort((a, b) => breakpoint[a]! - breakpoint[b]!);
      let saturated = 0;
      let rising = 0;
      for (let k = 0; k < count; k++) rising += slope[active[k]!]!;
      radius = Infinity;
      for (let k = 0; k < count; k++) {
        const j = active[k]!;
        const b = breakpoint[j]!;
        if (saturated + rising * b >= need) {
          radius = (need - saturated) / rising;
          break;
        }
        saturated += slope[j]! * b;
        rising -= slope[j]!;
      }
      if (!Number.isFinite(radius)) radius = Infinity; // rounding: every coordinate saturated
    }
  }
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
