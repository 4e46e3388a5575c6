import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rateInterval, wilsonInterval } from './index.js';

describe('Wilson score interval (95 %)', () => {
  it('matches published values', () => {
    // Newcombe (1998), Table I / statsmodels proportion_confint(method='wilson').
    const cases: Array<[number, number, number, number]> = [
      [5, 10, 0.2366, 0.7634],
      [0, 10, 0, 0.2775],
      [10, 10, 0.7225, 1],
      [81, 100, 0.7222, 0.8749],
      [1, 20, 0.0089, 0.2361],
      [15, 148, 0.0624, 0.1605],
    ];
    for (const [k, n, lower, upper] of cases) {
      const [lo, hi] = wilsonInterval(k, n)!;
      expect(lo, `${k}/${n}`).toBeCloseTo(lower, 4);
      expect(hi, `${k}/${n}`).toBeCloseTo(upper, 4);
    }
  });

  it('starts at exactly 0 for 0 of N and ends at exactly 1 for N of N (Newcombe 1998, Table I: 0/10 → [0, 0.2775])', () => {
    // The report: 0 of N printed a lower bound of 3.5e-18; a bound of exactly 0 renders as "0.0".
    for (const n of [1, 10, 100, 1000, 12345]) {
      const [lo, hi] = wilsonInterval(0, n)!;
      expect(lo).toBe(0);
      expect(hi).toBeGreaterThan(0);
      const [lo1, hi1] = wilsonInterval(n, n)!;
      expect(hi1).toBe(1);
      expect(lo1).toBeLessThan(1);
    }
    expect(wilsonInterval(0, 10)![1]).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(10, 10)![0]).toBeCloseTo(0.7225, 4);
    expect(rateInterval(0, 100)![0]).toBe(0);
    // Right next to the edges the general formula still applies and stays continuous.
    expect(wilsonInterval(1e-9, 10)![1]).toBeCloseTo(wilsonInterval(0, 10)![1], 6);
  });

  it('is undefined without trials, contains the estimate, stays in [0, 1] and narrows as N grows', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(rateInterval(null, 100)).toBeNull();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, p) => {
        const k = Math.round(p * n);
        const [lo, hi] = wilsonInterval(k, n)!;
        expect(lo).toBeGreaterThanOrEqual(0);
        expect(hi).toBeLessThanOrEqual(1);
        expect(lo).toBeLessThanOrEqual(k / n + 1e-12);
        expect(hi).toBeGreaterThanOrEqual(k / n - 1e-12);
        const [lo4, hi4] = wilsonInterval(4 * k, 4 * n)!;
        expect(hi4 - lo4).toBeLessThan(hi - lo);
      }),
      { numRuns: 200 },
    );
    // ±5–10 points at N = 100, as the issue says: 50 % of 100 → [40.4, 59.6].
    const [lo, hi] = rateInterval(0.5, 100)!;
    expect(lo).toBeCloseTo(0.4038, 3);
    expect(hi).toBeCloseTo(0.5962, 3);
  });
});
