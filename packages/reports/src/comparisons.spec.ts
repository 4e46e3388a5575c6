import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareModels, markTeachers, mcnemarExact, mergeResults, parseResults } from './index.js';
import { demo, file, model, outcomes } from './spec-results.js';

describe('paired comparisons of a run\'s models', () => {
  it('reproduces the issue\'s ARD vs CRDND numbers, student first', () => {
    const comparisons = compareModels(demo());
    const robust = comparisons.pairs.find((c) => c.measure === 'linf:0.3' && c.first === 'ard' && c.second === 'crdnd')!;
    expect(robust).toMatchObject({ relation: 'student-student', evaluated: 100, firstAccuracy: 0.26, secondAccuracy: 0.2, table: { both: 16, firstOnly: 10, secondOnly: 4, neither: 70 } });
    expect(robust.difference).toBeCloseTo(0.06, 12);
    expect(robust.pValue).toBeCloseTo(0.1796, 4);
    expect(robust.discordance).toBeCloseTo(0.14, 12);
    // The interval contains 0 (p > 0.05) and the run could not detect 6 points.
    expect(robust.interval![0]).toBeLessThan(0);
    expect(robust.interval![1]).toBeGreaterThan(0.06);
    expect(robust.minimumDetectableDifference!).toBeGreaterThan(0.06);
    // Connor (1987) with δ = 0.06, ψ = 0.14: (1.96·√0.14 + 0.8416·√(0.14 − 0.0036))² / 0.0036.
    expect(robust.examplesNeeded).toBe(Math.ceil((1.959964 * Math.sqrt(0.14) + 0.841621 * Math.sqrt(0.1364)) ** 2 / 0.0036));
    const clean = comparisons.pairs.find((c) => c.measure === 'clean' && c.first === 'ard' && c.second === 'crdnd')!;
    expect(clean.table).toEqual({ both: 92, firstOnly: 3, secondOnly: 0, neither: 5 });
  });

  it('orients and labels every pair from the data, and Holm-adjusts over all of them', () => {
    const comparisons = compareModels(demo());
    // 4 models → 6 pairs × 2 measures.
    expect(comparisons.pairs).toHaveLength(12);
    const relation = (a: string, b: string) => comparisons.pairs.find((c) => c.first === a && c.second === b)?.relation;
    expect(relation('ard', 'teacher')).toBe('student-teacher');
    expect(relation('crdnd', 'teacher')).toBe('student-teacher');
    expect(relation('ard', 'baseline')).toBe('student-baseline');
    expect(relation('teacher', 'baseline')).toBe('other');
    const raw = comparisons.pairs.map((c) => c.pValue);
    const sorted = [...raw].sort((a, b) => a - b);
    const smallest = comparisons.pairs.find((c) => c.pValue === sorted[0])!;
    expect(smallest.adjustedPValue).toBeCloseTo(Math.min(1, 12 * sorted[0]!), 12);
    for (const c of comparisons.pairs) expect(c.adjustedPValue).toBeGreaterThanOrEqual(c.pValue);
  });

  it('writes a schema-valid results.json and skips pairs evaluated on different examples', () => {
    const results = demo();
    expect(() => parseResults({ ...results, comparisons: compareModels(results) }, 'results.json')).not.toThrow();
    const short = file({ a: model(outcomes(3, 1, 0)), b: model(outcomes(2, 2, 0)), c: model(outcomes(1, 2, 0)) });
    expect(compareModels(short).pairs.filter((p) => p.first === 'c' || p.second === 'c')).toHaveLength(0);
  });

  it('compares across merged seeds with each seed\'s own pairing, and says the examples were the same', () => {
    const seedRun = (seed: number, aOnly: number, bOnly: number) =>
      file({ a: model([...outcomes(10, 0, 0), ...outcomes(aOnly, 0, 0), ...outcomes(0, bOnly, 0), ...outcomes(0, 20 - aOnly - bOnly, 0)]), b: model([...outcomes(10, 0, 0), ...outcomes(0, aOnly, 0), ...outcomes(bOnly, 0, 0), ...outcomes(0, 20 - aOnly - bOnly, 0)]) }, seed);
    const merged = mergeResults([seedRun(1, 4, 1), seedRun(2, 5, 1), seedRun(3, 3, 0)]);
    expect(merged.seedsShareTestExamples).toBe(true);
    const seeds = merged.comparisons!.acrossSeeds!.find((c) => c.measure === 'linf:0.3')!;
    // Per seed: (4 − 1)/30, (5 − 1)/30, (3 − 0)/30 → mean 10/90, sd of (3, 4, 3)/30.
    expect(seeds.differences.map((d) => d * 30)).toEqual([3, 4, 3].map((v) => expect.closeTo(v, 12)));
    expect(seeds.mean).toBeCloseTo(1 / 9, 12);
    expect(seeds.std).toBeCloseTo(Math.sqrt(1 / 3) / 30, 12);
    const t = (1 / 9) / (Math.sqrt(1 / 3) / 30 / Math.sqrt(3));
    expect(seeds.t).toBeCloseTo(t, 9);
    expect(seeds.pValue).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 9); // Student t, 2 degrees of freedom
    expect(seeds.perSeedPValues[0]).toBeCloseTo(2 * (1 + 5) / 32, 12); // exact McNemar 4 vs 1
    // The merged file keeps no per-example outcomes at top level: no pooled pairs across seeds.
    expect(merged.comparisons!.pairs).toHaveLength(0);
    expect(() => parseResults(JSON.parse(JSON.stringify(merged)), 'merged')).not.toThrow();
  });

  it('counts every random pair of outcome lists as a separate count over examples does', () => {
    const outcome = fc.constantFrom<string | null>(null, 'pgd', 'clean');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(fc.array(outcome, { minLength: n, maxLength: n }), fc.array(outcome, { minLength: n, maxLength: n }))), ([x, y]) => {
        const results = file({ x: model(x), y: model(y) });
        const robust = compareModels(results).pairs.find((c) => c.measure === 'linf:0.3')!;
        let firstOnly = 0;
        let secondOnly = 0;
        for (let i = 0; i < x.length; i++) {
          if (x[i] === null && y[i] !== null) firstOnly++;
          if (x[i] !== null && y[i] === null) secondOnly++;
        }
        expect(robust.table.firstOnly).toBe(firstOnly);
        expect(robust.table.secondOnly).toBe(secondOnly);
        expect(robust.firstAccuracy - robust.secondAccuracy).toBeCloseTo(robust.difference, 12);
        expect(robust.firstAccuracy).toBeCloseTo(results.models.x!.threatModels['linf:0.3']!.robustAccuracy!, 12);
        expect(robust.pValue).toBe(mcnemarExact(firstOnly, secondOnly));
        // One pair, two measures: Holm multiplies the smaller p by 2.
        const ps = compareModels(results).pairs.map((c) => c.pValue).sort((a, b) => a - b);
        expect(Math.min(...compareModels(results).pairs.map((c) => c.adjustedPValue))).toBeCloseTo(Math.min(1, 2 * ps[0]!), 12);
      }),
      { numRuns: 80 },
    );
  });

  it('marks each evaluated teacher with the students it taught', () => {
    const { teacher: t, ...rest } = demo().models;
    const { taught: _taught, ...bare } = t!;
    const marked = markTeachers(file({ teacher: bare, ...rest }));
    expect(marked.models.teacher!.taught).toEqual(['ard', 'crdnd']);
    expect(marked.models.ard!.taught).toBeUndefined();
    // A teacher that is not a model of the run has no entry to mark.
    expect(Object.keys(markTeachers(file(rest)).models)).toEqual(['baseline', 'ard', 'crdnd']);
  });
});
