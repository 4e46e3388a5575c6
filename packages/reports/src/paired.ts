import { wilsonInterval, Z_95, type Interval } from './stats.js';

/**
 * Statistics of two models evaluated on the same examples (paired binary outcomes), as the
 * clinical-trials literature does them. Pure functions of counts; no tensors.
 *
 * A paired table counts, over the N shared examples, `both` (both models right), `firstOnly`
 * (the first right, the second wrong), `secondOnly` and `neither`. The difference in accuracy
 * (first − second) is (firstOnly − secondOnly) / N; only the discordant examples carry
 * information about it.
 */
export interface PairedTable {
  readonly both: number;
  readonly firstOnly: number;
  readonly secondOnly: number;
  readonly neither: number;
}

/** z of a one-sided 80 % power requirement (Φ⁻¹(0.8)). */
export const Z_POWER_80 = 0.8416212335729143;

/** The paired table of two per-example outcome lists of equal length (true = right). */
export function pairedTable(first: ArrayLike<boolean>, second: ArrayLike<boolean>): PairedTable {
  if (first.length !== second.length) throw new RangeError(`paired outcomes differ in length (${first.length} vs ${second.length})`);
  let both = 0;
  let firstOnly = 0;
  let secondOnly = 0;
  let neither = 0;
  for (let i = 0; i < first.length; i++) {
    if (first[i] && second[i]) both++;
    else if (first[i]) firstOnly++;
    else if (second[i]) secondOnly++;
    else neither++;
  }
  return { both, firstOnly, secondOnly, neither };
}

/** P(X ≤ k) for X ~ Binomial(n, ½), summed in log space so that n in the tens of thousands does not underflow. */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  const terms: number[] = [];
  let logC = 0; // log C(n, 0)
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    terms.push(logC - n * Math.LN2);
  }
  const top = Math.max(...terms);
  let sum = 0;
  for (const t of terms) sum += Math.exp(t - top);
  return Math.min(1, Math.exp(top) * sum);
}

/**
 * Exact (conditional) McNemar test (McNemar 1947; the exact form is the sign test on the
 * discordant pairs): under H0 the `firstOnly` of the `firstOnly + secondOnly` discordant
 * examples is Binomial(n, ½); the two-sided p-value doubles the smaller tail, capped at 1.
 * 1 when no example is discordant.
 */
export function mcnemarExact(firstOnly: number, secondOnly: number): number {
  const n = firstOnly + secondOnly;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(firstOnly, secondOnly), n));
}

/**
 * 95 % interval of the paired difference in proportions p₁ − p₂, Newcombe (1998) method 10
 * ("Improved confidence intervals for the difference between binomial proportions based on
 * paired data", Statistics in Medicine 17:2635–2650): the Wilson score intervals (l₁, u₁) and
 * (l₂, u₂) of the two marginal proportions are combined by "square and add" with the
 * correlation φ of the paired outcomes,
 *
 *   lower = D − √((p₁ − l₁)² − 2φ(p₁ − l₁)(u₂ − p₂) + (u₂ − p₂)²),
 *   upper = D + √((u₁ − p₁)² − 2φ(u₁ − p₁)(p₂ − l₂) + (p₂ − l₂)²),
 *
 * φ = (AD − BC)/√(EFGH) over the table's cells and margins, replaced by max(AD − BC − N/2, 0)/√(EFGH)
 * when AD > BC, and 0 when a margin is empty. Null for an empty table.
 */
export function newcombePairedInterval(table: PairedTable, z = Z_95): Interval | null {
  const { both: a, firstOnly: b, secondOnly: c, neither: d } = table;
  const n = a + b + c + d;
  if (n === 0) return null;
  const p1 = (a + b) / n;
  const p2 = (a + c) / n;
  const [l1, u1] = wilsonInterval(a + b, n, z)!;
  const [l2, u2] = wilsonInterval(a + c, n, z)!;
  const margins = (a + b) * (c + d) * (a + c) * (b + d);
  const cross = a * d - b * c;
  const phi = margins === 0 ? 0 : (cross > 0 ? Math.max(cross - n / 2, 0) : cross) / Math.sqrt(margins);
  const difference = p1 - p2;
  const lower = difference - Math.sqrt(Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2));
  const upper = difference + Math.sqrt(Math.max(0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2));
  return [Math.max(-1, lower), Math.min(1, upper)];
}

/**
 * Holm's (1979) step-down adjustment of p-values for multiple comparisons, in input order:
 * with the p-values sorted ascending p₍₁₎ ≤ … ≤ p₍ₘ₎, adjusted p₍ᵢ₎ = maxⱼ≤ᵢ min(1, (m − j + 1)·p₍ⱼ₎).
 * Rejecting where adjusted ≤ α is Holm's procedure at family-wise level α.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, index], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[index] = running;
  });
  return adjusted;
}

/** Φ⁻¹(probability), by bisection on {@link normalCdf} (used only for levels other than α 0.05 and power 0.8). */
export function normalQuantile(probability: number): number {
  if (!(probability > 0 && probability < 1)) return Number.NaN;
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < probability) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal CDF Φ(x) = erfc(−x/√2)/2. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Complementary error function (continued fraction for large |x|, Taylor series near 0). */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    // erf(x) = 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n + 1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz's continued fraction: erfc(x) = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …))))
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = x + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = x + an / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/**
 * Pairs needed for McNemar's test to detect a difference δ = p₁₀ − p₀₁ in paired proportions when
 * a share ψ = p₁₀ + p₀₁ of the pairs is discordant, two-sided at level α with the given power
 * (Connor 1987, "Sample size for testing differences in proportions for the paired-sample
 * design", Biometrics 43:207–211):
 *
 *   n = (z_{1−α/2}·√ψ + z_{power}·√(ψ − δ²))² / δ².
 *
 * Not rounded (round up to plan). Infinite when δ = 0; NaN when |δ| > ψ (no such table).
 */
export function mcnemarSampleSize(difference: number, discordance: number, alpha = 0.05, power = 0.8): number {
  const delta = Math.abs(difference);
  if (!(delta <= discordance) || discordance > 1) return Number.NaN;
  if (delta === 0) return Number.POSITIVE_INFINITY;
  const zAlpha = alpha === 0.05 ? Z_95 : normalQuantile(1 - alpha / 2);
  const zPower = power === 0.8 ? Z_POWER_80 : normalQuantile(power);
  return (zAlpha * Math.sqrt(discordance) + zPower * Math.sqrt(discordance - delta * delta)) ** 2 / (delta * delta);
}

/**
 * The smallest difference |δ| McNemar's test detects at level α with the given power from `n`
 * pairs, a share ψ of which are discordant: the root of {@link mcnemarSampleSize}(δ, ψ) = n,
 * found by bisection (the sample size falls as δ grows). Null when ψ = 0 (no discordant pair:
 * no observed variability to plan from) or when even δ = ψ (every discordant pair one way)
 * needs more than n pairs.
 */
export function minimumDetectableDifference(n: number, discordance: number, alpha = 0.05, power = 0.8): number | null {
  if (!(n > 0) || !(discordance > 0) || discordance > 1) return null;
  if (mcnemarSampleSize(discordance, discordance, alpha, power) > n) return null;
  let lo = 0;
  let hi = discordance;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (mcnemarSampleSize(mid, discordance, alpha, power) > n) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-14). */
function logGamma(x: number): number {
  const g = 7;
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = coefficients[0]!;
  const t = y + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += coefficients[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // The fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(a * Math.log(x) + b * Math.log(1 - x) - (logGamma(a) + logGamma(b) - logGamma(a + b))) / a;
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = i >> 1;
    let numerator: number;
    if (i === 0) numerator = 1;
    else if (i % 2 === 0) numerator = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    else numerator = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    d = Math.abs(d) < tiny ? tiny : d;
    d = 1 / d;
    c = 1 + numerator / c;
    c = Math.abs(c) < tiny ? tiny : c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(1 - delta) < 1e-15) break;
  }
  return front * (f - 1);
}

/** Two-sided p-value of Student's t with `df` degrees of freedom: I_{df/(df + t²)}(df/2, ½). */
export function studentTTwoSided(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * The two-sided quantile of Student's t: the t with P(|T| ≥ t) = `twoSidedP` at `df` degrees of
 * freedom (4.303 for 0.05 and 2 df), by bisection on {@link studentTTwoSided}. NaN for df ≤ 0.
 */
export function studentTQuantile(twoSidedP: number, df: number): number {
  if (!(df > 0) || !(twoSidedP > 0 && twoSidedP < 1)) return Number.NaN;
  let lo = 0;
  let hi = 1;
  while (studentTTwoSided(hi, df) > twoSidedP) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSided(mid, df) > twoSidedP) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * 95 % t interval of a mean over n seeds from its sample standard deviation: mean ± t₀.₉₇₅,ₙ₋₁ ·
 * sd/√n, the interval the paired t test over seeds inverts. Null below two seeds or without a finite sd.
 */
export function tIntervalOfMean(mean: number, sd: number, n: number, level = 0.95): Interval | null {
  if (n < 2 || !Number.isFinite(sd) || !Number.isFinite(mean)) return null;
  const half = studentTQuantile(1 - level, n - 1) * (sd / Math.sqrt(n));
  return [mean - half, mean + half];
}

/** The result of a paired t test over seeds. */
export interface SeedTest {
  /** Seeds (pairs of runs) the test used. */
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation of the per-seed differences (n − 1). */
  readonly std: number;
  /** t = mean / (std/√n); null when n < 2 or every seed gave the same difference. */
  readonly t: number | null;
  /** Two-sided p-value with n − 1 degrees of freedom; null when t is. */
  readonly p: number | null;
}

/**
 * Paired (one-sample) t test of per-seed differences against 0 (Student 1908). With fewer than
 * two seeds, or no spread, there is no test: t and p are null.
 */
export function pairedTTest(differences: readonly number[]): SeedTest {
  const n = differences.length;
  const mean = n === 0 ? Number.NaN : differences.reduce((s, v) => s + v, 0) / n;
  const std = n < 2 ? Number.NaN : Math.sqrt(differences.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  if (n < 2 || !(std > 1e-12 * Math.max(1, Math.abs(mean)))) return { n, mean, std, t: null, p: null };
  const t = mean / (std / Math.sqrt(n));
  return { n, mean, std, t, p: studentTTwoSided(t, n - 1) };
}
