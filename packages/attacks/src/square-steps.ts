// The proposal distributions of the Square Attack (Andriushchenko et al. 2020), on one example
// stored as a flat NHWC row (index (row·w + col)·c + channel). Plain arrays: a proposal touches a
// window of a few pixels, and the model query is the only tensor work.
import type { InputBounds, Rng } from '@tempered/core';

/** Image geometry of one example: [h, w, c] from x's shape ([batch, h, w, c], [batch, h, w] or [batch, d] = 1 × d). */
export interface Geometry {
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

export function geometryOf(shape: readonly number[]): Geometry {
  if (shape.length === 4) return { h: shape[1]!, w: shape[2]!, c: shape[3]! };
  if (shape.length === 3) return { h: shape[1]!, w: shape[2]!, c: 1 };
  return { h: 1, w: shape.slice(1).reduce((a, b) => a * b, 1), c: 1 };
}

/**
 * The fraction p of pixels a square covers at iteration `iteration` (the authors' piecewise-constant
 * schedule, halving p at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 iterations). With
 * `rescale` the breakpoints are stretched to a budget of `queries` as if it were 10 000.
 */
export function squareFraction(pInit: number, iteration: number, queries: number, rescale: boolean): number {
  const it = rescale ? Math.floor((iteration / queries) * 10_000) : iteration;
  const breakpoints = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  let halvings = 0;
  for (const b of breakpoints) if (it > b) halvings++;
  return pInit / 2 ** halvings;
}

/** A uniformly placed s × s window: top-left corner in [0, h − s] × [0, w − s]. */
function placeWindow(geometry: Geometry, side: number, rng: Rng): { top: number; left: number } {
  return { top: rng.int(geometry.h - side + 1), left: rng.int(geometry.w - side + 1) };
}

/** Side of the square for fraction p: round(√(p·h·w)), within [minimum, min(h, w)]. */
export function squareSide(p: number, geometry: Geometry, minimum: number): number {
  const side = Math.max(Math.round(Math.sqrt(p * geometry.h * geometry.w)), minimum);
  return Math.max(1, Math.min(side, geometry.h, geometry.w));
}

const sign = (rng: Rng): number => (rng.next() < 0.5 ? -1 : 1);

/**
 * L∞ proposal, in place on `candidate` (a copy of the current best point): a random s × s window
 * set to x ± ε, one sign per channel, clipped to the bounds. Signs are redrawn (a few times) when
 * the window would not change, as in the authors' code.
 */
export function linfProposal(x: Float32Array, candidate: Float32Array, geometry: Geometry, side: number, epsilon: number, bounds: InputBounds, rng: Rng): void {
  const { w, c } = geometry;
  const { top, left } = placeWindow(geometry, side, rng);
  const signs = new Float32Array(c);
  for (let attempt = 0; attempt < 10; attempt++) {
    for (let ch = 0; ch < c; ch++) signs[ch] = sign(rng);
    let changes = false;
    for (let r = top; r < top + side && !changes; r++) {
      for (let col = left; col < left + side && !changes; col++) {
        for (let ch = 0; ch < c; ch++) {
          const k = (r * w + col) * c + ch;
          const value = Math.min(Math.max(x[k]! + signs[ch]! * epsilon, bounds.min), bounds.max);
          if (Math.abs(value - candidate[k]!) >= 1e-7) changes = true;
        }
      }
    }
    if (changes) break;
  }
  for (let r = top; r < top + side; r++) {
    for (let col = left; col < left + side; col++) {
      for (let ch = 0; ch < c; ch++) {
        const k = (r * w + col) * c + ch;
        candidate[k] = Math.min(Math.max(x[k]! + signs[ch]! * epsilon, bounds.min), bounds.max);
      }
    }
  }
}

/** The L∞ start: vertical stripes x ± ε, one sign per column and channel. */
export function linfStart(x: Float32Array, geometry: Geometry, epsilon: number, bounds: InputBounds, rng: Rng): Float32Array {
  const { h, w, c } = geometry;
  const signs = Array.from({ length: w * c }, () => sign(rng));
  const out = new Float32Array(x.length);
  for (let r = 0; r < h; r++) {
    for (let k = 0; k < w * c; k++) {
      const i = r * w * c + k;
      out[i] = Math.min(Math.max(x[i]! + signs[k]! * epsilon, bounds.min), bounds.max);
    }
  }
  return out;
}

// Unit-L2 "pseudo-Gaussian" blocks of the L2 attack: centred rectangles weighted 1/(k+1)².
function rectangles(rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  if (rows === 0 || cols === 0) return out;
  let r0 = Math.floor(rows / 2);
  let c0 = Math.floor(cols / 2);
  for (let k = 0; k < Math.max(Math.floor(rows / 2) + 1, Math.floor(cols / 2) + 1); k++) {
    for (let r = Math.max(r0, 0); r < Math.min(r0 + 2 * k + 1, rows); r++) {
      for (let col = Math.max(c0, 0); col < Math.min(c0 + 2 * k + 1, cols); col++) out[r * cols + col]! += 1 / (k + 1) ** 2;
    }
    r0--;
    c0--;
  }
  return normalised(out);
}

function normalised(values: Float64Array): Float64Array {
  let sq = 0;
  for (const v of values) sq += v * v;
  const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  return values.map((v) => v * scale);
}

const patterns = new Map<number, Float64Array>();

/** The s × s L2 pattern: the upper half a positive block, the lower half a negative one, unit L2 norm (cached per s). */
function pattern(side: number): Float64Array {
  let out = patterns.get(side);
  if (!out) {
    const half = Math.floor(side / 2);
    out = new Float64Array(side * side);
    out.set(rectangles(half, side), 0);
    const lower = rectangles(side - half, side);
    for (let i = 0; i < lower.length; i++) out[half * side + i] = -lower[i]!;
    out = normalised(out);
    patterns.set(side, out);
  }
  return out;
}

/** The pattern, transposed with probability ½, as the authors draw it. */
function drawPattern(side: number, rng: Rng): (r: number, col: number) => number {
  const values = pattern(side);
  return rng.next() < 0.5 ? (r, col) => values[r * side + col]! : (r, col) => values[col * side + r]!;
}

/** Rescales delta to L2 norm ε (the authors project onto the sphere) and clips x + delta to the bounds. */
function onSphere(x: Float32Array, delta: Float64Array, epsilon: number, bounds: InputBounds): Float32Array {
  let sq = 0;
  for (const v of delta) sq += v * v;
  const scale = epsilon / (Math.sqrt(sq) + 1e-12);
  return Float32Array.from(x, (v, k) => Math.min(Math.max(v + delta[k]! * scale, bounds.min), bounds.max));
}

/** The L2 start: a grid of ±pattern tiles of side ⌊min(h, w)/5⌋, one sign per tile and channel, on the ε-sphere. */
export function l2Start(x: Float32Array, geometry: Geometry, epsilon: number, bounds: InputBounds, rng: Rng): Float32Array {
  const { h, w, c } = geometry;
  const side = Math.max(Math.floor(Math.min(h, w) / 5), 1);
  const offset = Math.max(Math.floor((Math.min(h, w) - 5 * side) / 2), 0);
  const delta = new Float64Array(x.length);
  for (let top = offset; top + side <= h; top += side) {
    for (let left = offset; left + side <= w; left += side) {
      const values = drawPattern(side, rng);
      for (let ch = 0; ch < c; ch++) {
        const s = sign(rng);
        for (let r = 0; r < side; r++) for (let col = 0; col < side; col++) delta[((top + r) * w + left + col) * c + ch] = values(r, col) * s;
      }
    }
  }
  return onSphere(x, delta, epsilon, bounds);
}

/**
 * L2 proposal from the current best point: in a random window W₁ the perturbation becomes a new
 * ±pattern plus the old (normalised) content, rescaled per channel to take the budget left
 * √(max(ε² − ‖δ‖², 0)/c + ‖δ_{W₁∪W₂}‖²); a second window W₂ is zeroed to free budget. The result
 * is put back on the ε-sphere and clipped to the bounds.
 */
export function l2Proposal(x: Float32Array, best: Float32Array, geometry: Geometry, side: number, epsilon: number, bounds: InputBounds, rng: Rng): Float32Array {
  const { w, c } = geometry;
  const delta = Float64Array.from(best, (v, k) => v - x[k]!);
  const first = placeWindow(geometry, side, rng);
  const second = placeWindow(geometry, side, rng);
  const inWindow = (win: { top: number; left: number }, r: number, col: number) => r >= win.top && r < win.top + side && col >= win.left && col < win.left + side;
  let imageSq = 0;
  for (const v of delta) imageSq += v * v;
  const values = drawPattern(side, rng);
  for (let ch = 0; ch < c; ch++) {
    let firstSq = 0;
    let unionSq = 0;
    for (let r = Math.min(first.top, second.top); r < Math.max(first.top, second.top) + side; r++) {
      for (let col = Math.min(first.left, second.left); col < Math.max(first.left, second.left) + side; col++) {
        const a = inWindow(first, r, col);
        if (!a && !inWindow(second, r, col)) continue;
        const d = delta[(r * w + col) * c + ch]!;
        unionSq += d * d;
        if (a) firstSq += d * d;
      }
    }
    const s = sign(rng);
    const fresh = new Float64Array(side * side);
    const oldScale = 1 / (Math.sqrt(firstSq) + 1e-12);
    for (let r = 0; r < side; r++) {
      for (let col = 0; col < side; col++) fresh[r * side + col] = values(r, col) * s + delta[((first.top + r) * w + first.left + col) * c + ch]! * oldScale;
    }
    let freshSq = 0;
    for (const v of fresh) freshSq += v * v;
    const target = Math.sqrt(Math.max(epsilon * epsilon - imageSq, 0) / c + unionSq);
    const scale = target / (Math.sqrt(freshSq) + 1e-12);
    for (let r = 0; r < side; r++) for (let col = 0; col < side; col++) delta[((second.top + r) * w + second.left + col) * c + ch] = 0;
    for (let r = 0; r < side; r++) {
      for (let col = 0; col < side; col++) delta[((first.top + r) * w + first.left + col) * c + ch] = fresh[r * side + col]! * scale;
    }
  }
  return onSphere(x, delta, epsilon, bounds);
}
