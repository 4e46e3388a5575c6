import {
  holmAdjust,
  mcnemarExact,
  mcnemarSampleSize,
  minimumDetectableDifference,
  newcombePairedInterval,
  pairedTable,
  pairedTTest,
} from './paired.js';
import type { Comparisons, ModelResults, PairedComparison, ResultsFile, SeedComparison } from './schema.js';

/**
 * Every pair of models of a run compared on the examples both were evaluated on, per measure
 * ('clean', or a threat-model key such as "linf:0.3"), from the per-example outcomes in
 * results.json: an example counts as right on the clean input unless its `brokenBy` is "clean",
 * and as robust under a threat model when its `brokenBy` is null. See {@link compareModels}.
 */

/** Level and power the comparisons are planned at. */
export const COMPARISON_ALPHA = 0.05;
export const COMPARISON_POWER = 0.8;

/** The measure a comparison is about: 'clean' accuracy or a threat model's worst-case robust accuracy. */
export const CLEAN = 'clean';

/** Per-example outcomes of one model: by measure, true where the model was right. */
export type Outcomes = ReadonlyMap<string, readonly boolean[]>;

/** Per-example outcomes recorded for a model (from `threatModels[…].brokenBy`, or a seed's copy under `perSeed`). */
export function outcomesOf(threatModels: Readonly<Record<string, { readonly brokenBy?: readonly (string | null)[] }>>): Outcomes {
  const out = new Map<string, boolean[]>();
  for (const [key, tm] of Object.entries(threatModels)) {
    if (!tm.brokenBy) continue;
    if (!out.has(CLEAN)) out.set(CLEAN, tm.brokenBy.map((b) => b !== 'clean'));
    out.set(key, tm.brokenBy.map((b) => b === null));
  }
  return out;
}

/** What the reader asks of a pair first, from the run's data (never a model's or method's name). */
export function relationOf(results: ResultsFile, first: string, second: string): PairedComparison['relation'] {
  const a = results.models[first]!;
  const b = results.models[second]!;
  if (a.teacher?.name === second || b.teacher?.name === first) return 'student-teacher';
  const distilled = (m: ModelResults) => m.teacher !== undefined;
  const isTeacher = (name: string) => Object.values(results.models).some((m) => m.teacher?.name === name);
  // A baseline: trained without a teacher and teaching no one (e.g. standard training, PGD-AT).
  const isBaseline = (name: string, m: ModelResults) => !distilled(m) && !isTeacher(name);
  if (distilled(a) && distilled(b)) return 'student-student';
  if ((distilled(a) && isBaseline(second, b)) || (distilled(b) && isBaseline(first, a))) return 'student-baseline';
  return 'other';
}

/** Orders a pair so the distilled model (or the student) comes first: differences read "student − reference". */
function oriented(results: ResultsFile, x: string, y: string): [string, string] {
  const mx = results.models[x]!;
  const my = results.models[y]!;
  if (my.teacher?.name === x) return [y, x];
  if (mx.teacher?.name === y) return [x, y];
  if (!mx.teacher && my.teacher) return [y, x];
  return [x, y];
}

/** One measure of one pair, before the Holm adjustment. */
function compare(first: string, second: string, measure: string, a: readonly boolean[], b: readonly boolean[], relation: PairedComparison['relation']): Omit<PairedComparison, 'adjustedPValue'> {
  const table = pairedTable(a, b);
  const n = a.length;
  const difference = (table.firstOnly - table.secondOnly) / n;
  const discordance = (table.firstOnly + table.secondOnly) / n;
  const needed = mcnemarSampleSize(difference, discordance, COMPARISON_ALPHA, COMPARISON_POWER);
  return {
    first,
    second,
    measure,
    relation,
    evaluated: n,
    firstAccuracy: (table.both + table.firstOnly) / n,
    secondAccuracy: (table.both + table.secondOnly) / n,
    difference,
    interval: newcombePairedInterval(table),
    table,
    pValue: mcnemarExact(table.firstOnly, table.secondOnly),
    discordance,
    minimumDetectableDifference: minimumDetectableDifference(n, discordance, COMPARISON_ALPHA, COMPARISON_POWER),
    examplesNeeded: Number.isFinite(needed) ? Math.ceil(needed) : null,
  };
}

/** Model pairs in the run's order, each oriented (student first). */
function pairsOf(results: ResultsFile): Array<[string, string]> {
  const names = Object.keys(results.models);
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) pairs.push(oriented(results, names[i]!, names[j]!));
  return pairs;
}

/**
 * Paired comparisons of every pair of models on the same examples (Holm-adjusted over all of
 * them), and, for merged seeds, the comparison of each pair over seeds. Pure function of the
 * results; `assembleResults` and `mergeResults` store it as `results.comparisons`.
 *
 * Per pair and measure: the difference in accuracy (first − second, the student first) with its
 * Newcombe (1998) method-10 paired 95 % interval, the exact McNemar p-value and its Holm (1979)
 * adjustment over the run's comparisons, and the smallest difference the run could detect at
 * α 0.05 with power 0.8 given its examples and observed discordance (Connor 1987), with the
 * examples the observed difference would need.
 *
 * @example
 * const { pairs } = compareModels(readResults('runs/quickstart'));
 * const ardVsCrdnd = pairs.find((c) => c.first === 'ard' && c.second === 'crdnd' && c.measure === 'linf:0.3');
 * // { difference: 0.06, interval: [-0.016, 0.137], pValue: 0.18, minimumDetectableDifference: 0.104, examplesNeeded: 303, … }
 */
export function compareModels(results: ResultsFile): Comparisons {
  const outcomes = new Map(Object.entries(results.models).map(([name, m]) => [name, outcomesOf(m.threatModels ?? {})]));
  const raw: Array<Omit<PairedComparison, 'adjustedPValue'>> = [];
  for (const [first, second] of pairsOf(results)) {
    const a = outcomes.get(first)!;
    const b = outcomes.get(second)!;
    const relation = relationOf(results, first, second);
    for (const [measure, left] of a) {
      const right = b.get(measure);
      if (!right || right.length !== left.length || left.length === 0) continue;
      raw.push(compare(first, second, measure, left, right, relation));
    }
  }
  const adjusted = holmAdjust(raw.map((c) => c.pValue));
  const pairs = raw.map((c, i) => ({ ...c, adjustedPValue: adjusted[i]! }));
  const acrossSeeds = compareAcrossSeeds(results);
  return {
    alpha: COMPARISON_ALPHA,
    power: COMPARISON_POWER,
    pairs,
    ...(acrossSeeds.length > 0 ? { acrossSeeds } : {}),
  };
}

/**
 * For merged seeds (`perSeed`): per pair and measure, each seed's paired difference (computed
 * example by example within the seed), their mean and spread, and a paired t test over seeds
 * (none below two seeds), plus each seed's exact McNemar p-value. Holm-adjusted over the pairs.
 */
export function compareAcrossSeeds(results: ResultsFile): SeedComparison[] {
  const raw: Array<Omit<SeedComparison, 'adjustedPValue'>> = [];
  for (const [first, second] of pairsOf(results)) {
    const a = results.models[first]!.perSeed;
    const b = results.models[second]!.perSeed;
    if (!a || !b) continue;
    const seeds = Object.keys(a).filter((s) => b[s] !== undefined);
    if (seeds.length === 0) continue;
    const perSeed = seeds.map((s) => [outcomesOf(a[s]!.threatModels), outcomesOf(b[s]!.threatModels)] as const);
    const measures = [...perSeed[0]![0].keys()].filter((m) => perSeed.every(([x, y]) => x.get(m) && y.get(m) && x.get(m)!.length === y.get(m)!.length && x.get(m)!.length > 0));
    for (const measure of measures) {
      const tables = perSeed.map(([x, y]) => pairedTable(x.get(measure)!, y.get(measure)!));
      const differences = tables.map((t, i) => (t.firstOnly - t.secondOnly) / perSeed[i]![0].get(measure)!.length);
      const test = pairedTTest(differences);
      raw.push({
        first,
        second,
        measure,
        relation: relationOf(results, first, second),
        seeds,
        differences,
        mean: test.mean,
        std: Number.isFinite(test.std) ? test.std : null,
        t: test.t,
        pValue: test.p,
        perSeedPValues: tables.map((t) => mcnemarExact(t.firstOnly, t.secondOnly)),
        sameExamples: results.seedsShareTestExamples ?? false,
      });
    }
  }
  const tested = raw.map((c, i) => [c.pValue, i] as const).filter((x): x is readonly [number, number] => x[0] !== null);
  const adjusted = holmAdjust(tested.map(([p]) => p));
  const byIndex = new Map(tested.map(([, i], k) => [i, adjusted[k]!]));
  return raw.map((c, i) => ({ ...c, adjustedPValue: byIndex.get(i) ?? null }));
}

/** The comparisons stored in the file, else computed from it (results written before they were stored). */
export function comparisonsOf(results: ResultsFile): Comparisons {
  return results.comparisons ?? compareModels(results);
}

/** `results` with `comparisons` filled in. */
export function withComparisons(results: ResultsFile): ResultsFile {
  const { comparisons: _old, ...rest } = results;
  return { ...rest, comparisons: compareModels(rest) };
}
