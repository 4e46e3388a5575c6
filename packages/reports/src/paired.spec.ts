import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  binomialHalfCdf,
  holmAdjust,
  incompleteBeta,
  mcnemarExact,
  mcnemarSampleSize,
  minimumDetectableDifference,
  newcombePairedInterval,
  normalCdf,
  normalQuantile,
  pairedTable,
  pairedTTest,
  studentTQuantile,
  studentTTwoSided,
  tIntervalOfMean,
} from './paired.js';

// --- Independent computations, written here apart from the code under test. ---

/** Two-sided exact McNemar by enumerating every assignment of n discordant pairs to a direction. */
function bruteForceMcnemar(b: number, c: number): number {
  const n = b + c;
  const observed = Math.abs(b - c);
  let extreme = 0;
  for (let mask = 0; mask < 2 ** n; mask++) {
    let ones = 0;
    for (let v = mask; v > 0; v >>= 1) ones += v & 1;
    if (Math.abs(2 * ones - n) >= observed) extreme++;
  }
  return extreme / 2 ** n;
}

/** Wilson bounds as the two roots of (p̂ − π)² = z²π(1 − π)/n (the score test inverted). */
function wilsonRoots(k: number, n: number, z = 1.959963984540054): [number, number] {
  const p = k / n;
  const A = 1 + (z * z) / n;
  const B = -(2 * p + (z * z) / n);
  const C = p * p;
  const disc = Math.sqrt(B * B - 4 * A * C);
  return [(-B - disc) / (2 * A), (-B + disc) / (2 * A)];
}

/** Newcombe's method 10 written from the paper's definitions with the spec's own Wilson roots. */
function newcombeReference(a: number, b: number, c: number, d: number): [number, number] {
  const n = a + b + c + d;
  const [e, f, g, h] = [a + b, c + d, a + c, b + d];
  const [l1, u1] = wilsonRoots(e, n);
  const [l2, u2] = wilsonRoots(g, n);
  const p1 = e / n;
  const p2 = g / n;
  let phi = 0;
  if (e * f * g * h > 0) phi = (a * d > b * c ? Math.max(a * d - b * c - n / 2, 0) : a * d - b * c) / Math.sqrt(e * f * g * h);
  const dl = Math.sqrt(Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2));
  const du = Math.sqrt(Math.max(0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2));
  return [p1 - p2 - dl, p1 - p2 + du];
}

/** Holm's sequential procedure itself: which hypotheses it rejects at level α. */
function holmRejects(p: readonly number[], alpha: number): boolean[] {
  const order = p.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const reject = p.map(() => false);
  for (let k = 0; k < order.length; k++) {
    if (order[k]![0] > alpha / (order.length - k)) break;
    reject[order[k]![1]] = true;
  }
  return reject;
}

describe('exact McNemar test', () => {
  it('matches published worked examples', () => {
    // Fagerland, Lydersen & Laake (2013, BMC Med Res Methodol 13:91), airway hyper-responsiveness
    // (Bentur et al. 2009): discordant 1 and 7, exact conditional p = 0.070.
    expect(mcnemarExact(1, 7)).toBeCloseTo(0.0703, 4);
    // Issue 24's demo: ARD alone keeps 10 digits, CRDND alone 4: p = 0.18.
    expect(mcnemarExact(10, 4)).toBeCloseTo(0.1796, 4);
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(5, 5)).toBe(1);
  });

  it('equals a brute-force enumeration of the discordant pairs on random tables', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), (b, c) => {
        expect(mcnemarExact(b, c)).toBeCloseTo(bruteForceMcnemar(b, c), 12);
        expect(mcnemarExact(b, c)).toBe(mcnemarExact(c, b));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps the binomial tail finite and exact for large n', () => {
    // P(X ≤ n/2) for even n is ½ + C(n, n/2)/2^{n+1}; for n = 10000, C/2^n ≈ √(2/(πn)).
    const n = 10000;
    expect(binomialHalfCdf(n / 2, n)).toBeCloseTo(0.5 + Math.sqrt(2 / (Math.PI * n)) / 2, 6);
    expect(binomialHalfCdf(0, 1000) / 2 ** -1000).toBeCloseTo(1, 10);
    expect(mcnemarExact(0, 2000)).toBe(0); // 2^-1999 underflows to 0, never NaN
    expect(mcnemarExact(980, 1020)).toBeCloseTo(0.383177, 5); // 2·Σ_{k≤980} C(2000, k)/2^2000 in exact integer arithmetic
  });
});

describe('Newcombe (1998) method 10 paired interval', () => {
  it('reproduces the paper\'s worked examples (Table II)', () => {
    const cases: Array<[number, number, number, number, number, number]> = [
      [36, 12, 2, 0, 0.0569, 0.3404],
      [18, 12, 2, 18, 0.0562, 0.329],
      [53, 0, 0, 1, -0.0729, 0.0729],
      [0, 30, 0, 0, 0.8395, 1],
    ];
    for (const [a, b, c, d, lower, upper] of cases) {
      const [lo, hi] = newcombePairedInterval({ both: a, firstOnly: b, secondOnly: c, neither: d })!;
      expect(lo, `${a},${b},${c},${d}`).toBeCloseTo(lower, 4);
      expect(hi, `${a},${b},${c},${d}`).toBeCloseTo(upper, 4);
    }
  });

  it('agrees with an independent implementation, contains the estimate and mirrors when the models swap', () => {
    const cell = fc.integer({ min: 0, max: 60 });
    fc.assert(
      fc.property(cell, cell, cell, cell, (a, b, c, d) => {
        fc.pre(a + b + c + d > 0);
        const table = { both: a, firstOnly: b, secondOnly: c, neither: d };
        const [lo, hi] = newcombePairedInterval(table)!;
        const [rlo, rhi] = newcombeReference(a, b, c, d);
        expect(lo).toBeCloseTo(Math.max(-1, rlo), 9);
        expect(hi).toBeCloseTo(Math.min(1, rhi), 9);
        const estimate = (b - c) / (a + b + c + d);
        expect(lo).toBeLessThanOrEqual(estimate + 1e-12);
        expect(hi).toBeGreaterThanOrEqual(estimate - 1e-12);
        const [slo, shi] = newcombePairedInterval({ both: a, firstOnly: c, secondOnly: b, neither: d })!;
        expect(slo).toBeCloseTo(-hi, 9);
        expect(shi).toBeCloseTo(-lo, 9);
      }),
      { numRuns: 300 },
    );
    expect(newcombePairedInterval({ both: 0, firstOnly: 0, secondOnly: 0, neither: 0 })).toBeNull();
  });

  it('builds its table from per-example outcomes', () => {
    expect(pairedTable([true, true, false, false, true], [true, false, true, false, false])).toEqual({ both: 1, firstOnly: 2, secondOnly: 1, neither: 1 });
    expect(() => pairedTable([true], [true, false])).toThrow(/length/);
  });
});

describe('Holm (1979) adjustment', () => {
  it('reproduces a worked example', () => {
    // The worked example of Wikipedia's "Holm–Bonferroni method" (four hypotheses, α = 0.05): p = 0.01, 0.04, 0.03, 0.005;
    // H(0.005) and H(0.01) rejected, the rest not. Adjusted: 4·0.005, 3·0.01, max(2·0.03, ·), max(1·0.04, 0.06).
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted.map((p) => Number(p.toFixed(10)))).toEqual([0.03, 0.06, 0.06, 0.02]);
  });

  it('rejects exactly what Holm\'s sequential procedure rejects, and never less than the raw p', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }), fc.double({ min: 0.001, max: 0.2, noNaN: true }), (p, alpha) => {
        const adjusted = holmAdjust(p);
        expect(adjusted.map((q) => q <= alpha)).toEqual(holmRejects(p, alpha));
        adjusted.forEach((q, i) => {
          expect(q).toBeGreaterThanOrEqual(p[i]!);
          expect(q).toBeLessThanOrEqual(1);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('McNemar sample size and minimum detectable difference (Connor 1987)', () => {
  it('reproduces published sample sizes', () => {
    // Connor (1987, p. 209) formula as tabulated by powerandsamplesize.com ("Compare paired
    // proportions, McNemar Z-test, 2-sided"): p10 = 0.05, p01 = 0.45, α = 0.05, power 0.8 → 23 pairs.
    expect(Math.ceil(mcnemarSampleSize(0.05 - 0.45, 0.5))).toBe(23);
    expect(mcnemarSampleSize(0.05 - 0.45, 0.5)).toBeCloseTo(22.01, 2);
    // The same formula's worked example in the clinicaltrials-tools McNemar calculator (Connor 1987):
    // discordant share 0.45, |p10 − p01| = 0.15 (discordant odds ratio 2) → 155 pairs.
    expect(Math.ceil(mcnemarSampleSize(0.15, 0.45))).toBe(155);
    expect(mcnemarSampleSize(0, 0.3)).toBe(Number.POSITIVE_INFINITY);
    expect(mcnemarSampleSize(0.4, 0.3)).toBeNaN();
  });

  it('inverts the sample size: the detectable difference at n needs n pairs, and shrinks as n grows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 20000 }), fc.double({ min: 0.02, max: 1, noNaN: true }), (n, psi) => {
        const delta = minimumDetectableDifference(n, psi);
        if (delta === null) {
          expect(mcnemarSampleSize(psi, psi)).toBeGreaterThan(n);
          return;
        }
        expect(mcnemarSampleSize(delta, psi)).toBeCloseTo(n, 4);
        const larger = minimumDetectableDifference(4 * n, psi)!;
        expect(larger).toBeLessThan(delta);
      }),
      { numRuns: 100 },
    );
    expect(minimumDetectableDifference(100, 0)).toBeNull();
  });
});

describe('normal and Student t distributions', () => {
  it('match table values and closed forms', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 12);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316301, 13);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 9);
    // Student t table, two-sided 0.05: t(1) = 12.706, t(10) = 2.228, t(30) = 2.042.
    expect(studentTTwoSided(12.706, 1)).toBeCloseTo(0.05, 4);
    expect(studentTTwoSided(2.228, 10)).toBeCloseTo(0.05, 3);
    expect(studentTTwoSided(2.042, 30)).toBeCloseTo(0.05, 3);
    // Closed forms: df 1 is Cauchy, P(|T| > 1) = ½; df 2, P(|T| > t) = 1 − t/√(2 + t²).
    expect(studentTTwoSided(1, 1)).toBeCloseTo(0.5, 12);
    for (const t of [0.3, 1.7, 4.2]) expect(studentTTwoSided(t, 2)).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 12);
    // I_x(a, 1) = x^a.
    expect(incompleteBeta(0.3, 2.5, 1)).toBeCloseTo(0.3 ** 2.5, 12);
  });

  it('t quantiles and the t interval of a mean over seeds match the table', () => {
    // Student t table, two-sided 0.05: 12.706 (1 df), 4.303 (2), 2.228 (10); two-sided 0.01, 2 df: 9.925.
    expect(studentTQuantile(0.05, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.05, 2)).toBeCloseTo(4.3027, 4);
    expect(studentTQuantile(0.05, 10)).toBeCloseTo(2.2281, 4);
    expect(studentTQuantile(0.01, 2)).toBeCloseTo(9.9248, 3);
    // df 2 closed form, P(|T| > t) = 1 − t/√(2 + t²) inverted: t = √(2q² / (1 − q²)) with q = 1 − p.
    expect(studentTQuantile(0.2, 2)).toBeCloseTo(Math.sqrt((2 * 0.8 ** 2) / (1 - 0.8 ** 2)), 9);
    // Seeds 0.80, 0.82, 0.84: mean 0.82, sd 0.02 → 0.82 ± 4.3027 · 0.02/√3.
    const [lower, upper] = tIntervalOfMean(0.82, 0.02, 3)!;
    expect(lower).toBeCloseTo(0.82 - (4.302653 * 0.02) / Math.sqrt(3), 6);
    expect(upper).toBeCloseTo(0.82 + (4.302653 * 0.02) / Math.sqrt(3), 6);
    expect(tIntervalOfMean(0.82, Number.NaN, 1)).toBeNull();
    expect(studentTQuantile(0.05, 0)).toBeNaN();
  });

  it('paired t over seeds: none with one seed or no spread, Student\'s t otherwise', () => {
    expect(pairedTTest([0.05]).p).toBeNull();
    expect(pairedTTest([0.05, 0.05, 0.05]).t).toBeNull();
    // differences 0.02, 0.04, 0.06: mean 0.04, sd 0.02, t = 0.04/(0.02/√3) = 3.4641, df 2 → p = 1 − t/√(2+t²) = 0.0742.
    const test = pairedTTest([0.02, 0.04, 0.06]);
    expect(test.t).toBeCloseTo(3.4641, 4);
    expect(test.p).toBeCloseTo(1 - 3.4641016 / Math.sqrt(2 + 12), 6);
  });
});
