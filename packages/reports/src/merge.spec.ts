import { describe, expect, it } from 'vitest';
import { gradientHistogram, DEFAULT_HISTOGRAM_AXIS, mergeResults, parseResults, renderMarkdown, type AttackSummary, type ModelResults, type ResultsFile, type ThreatModelResult } from './index.js';

const histogramParams = { ...DEFAULT_HISTOGRAM_AXIS, temperature: 1, quantity: 'loss' as const, norm: 'l2' as const };

function cw(meanL2: number | null, budget: number, note = ''): AttackSummary {
  return {
    name: 'cw', params: { note }, mode: 'untargeted', norm: 'l2', kind: 'minimum-distortion', epsilon: null, evaluated: 4, pairs: 4,
    successRate: 1, robustAccuracy: 0, meanL0: null, medianL0: null, meanL2, medianL2: meanL2, meanLinf: null, medianLinf: null, meanIterations: 10,
    budgets: [{ norm: 'linf', epsilon: 0.3, successRate: budget, robustAccuracy: 1 - budget }],
  };
}

function threatModel(brokenBy: Array<string | null>, perClass: Array<[number, number]>): ThreatModelResult {
  const robust = brokenBy.filter((b) => b === null).length / brokenBy.length;
  const breakers: Record<string, number> = {};
  for (const b of brokenBy) if (b) breakers[b] = (breakers[b] ?? 0) + 1;
  return {
    norm: 'linf', epsilon: 0.3, attacks: ['pgd'], ran: ['pgd'], evaluated: 4, cleanAccuracy: 1, robustAccuracy: robust, breakers, brokenBy,
    broken: { pgd: brokenBy.flatMap((b, i) => (b === 'pgd' ? [i] : [])) },
    perClass: perClass.map(([label, robustAccuracy]) => ({ label, examples: 2, cleanAccuracy: 1, robustAccuracy })),
    worstClass: null,
  };
}

function run(seed: number, over: { clean: number; tm: ThreatModelResult; cwL2: number | null; budget: number; gradients: number[]; note: string }): ResultsFile {
  const model: ModelResults = {
    method: 'ard', methodParams: {}, classes: 2, cleanAccuracy: over.clean, confidence: 0.9,
    threatModels: { 'linf:0.3': over.tm }, attacks: { cw: cw(over.cwL2, over.budget, over.note) },
    gradientHistogram: gradientHistogram(over.gradients, { ...histogramParams, quantity: 'probability', norm: 'l1' }),
    lossGradientHistogram: gradientHistogram(over.gradients, histogramParams),
    diagnostics: [{ id: 'vanishing-gradients', status: 'flagged', severity: 'warning', message: `seed ${seed} says so`, evidence: {} }],
    examples: {},
  };
  return { schemaVersion: 2, tempered: 't', createdAt: '2026-12-05T00:00:00.000Z', dataset: { name: 'd', split: 'test', size: 4 }, evaluatedExamples: 4, backend: { name: 'cpu', workers: 0 }, seed, models: { m: model } };
}

describe('mergeResults (seeds)', () => {
  const one = run(1, { clean: 1, tm: threatModel(['pgd', null, null, 'pgd'], [[0, 0], [1, 1]]), cwL2: 1.5, budget: 0.2, gradients: [1e-3, 1e-3, 1e-30, 0], note: 'a' });
  const two = run(2, { clean: 0.5, tm: threatModel([null, 'pgd', 'pgd', 'pgd'], [[0, 0.5], [1, 0]]), cwL2: null, budget: 0.6, gradients: [1e-3, 1e-2, 1e-2, 1e-2], note: 'b' });
  const merged = mergeResults([one, two]);
  const m = merged.models['m']!;
  const tm = m.threatModels['linf:0.3']!;

  it('writes a merged file its own reader accepts (std, missing, perSeed included)', () => {
    expect(() => parseResults(JSON.parse(JSON.stringify(merged)))).not.toThrow();
  });

  it('gives mean ± sd of every figure, including threat models, budgets and histograms', () => {
    expect(merged.seeds).toEqual([1, 2]);
    expect(m.cleanAccuracy).toBeCloseTo(0.75);
    expect(m.std!.cleanAccuracy).toBeCloseTo(Math.SQRT1_2 * 0.5);
    expect(tm.robustAccuracy).toBeCloseTo(0.375);
    expect((m.std!.threatModels!['linf:0.3'] as { robustAccuracy: number }).robustAccuracy).toBeCloseTo(Math.SQRT1_2 * 0.25);
    expect(m.attacks['cw']!.budgets![0]!.successRate).toBeCloseTo(0.4);
    expect(m.lossGradientHistogram.zeros).toBeCloseTo(0.5); // seed 1 had one exact zero, seed 2 none
    expect(m.lossGradientHistogram.counts[m.lossGradientHistogram.binEdges.indexOf(-30)]).toBeCloseTo(0.5);
    expect(tm.breakers['pgd']).toBeCloseTo(2.5);
    expect(tm.perClass.map((c) => c.robustAccuracy)).toEqual([0.25, 0.5]);
    // The worst class comes from the merged table, not from averaging each seed's worst label.
    expect(tm.worstClass).toEqual({ label: 0, robustAccuracy: 0.25 });
  });

  it('never drops a null silently, and keeps per seed what cannot be averaged', () => {
    expect(m.attacks['cw']!.meanL2).toBe(1.5);
    expect(m.missing).toMatchObject({ 'attacks.cw.meanL2': [2] });
    expect(tm.brokenBy).toBeUndefined();
    expect(m.perSeed!['1']!.threatModels['linf:0.3']!.brokenBy).toEqual(['pgd', null, null, 'pgd']);
    expect(m.perSeed!['2']!.threatModels['linf:0.3']!.brokenBy).toEqual([null, 'pgd', 'pgd', 'pgd']);
    expect(m.attacks['cw']!.params['note']).toBe('a | b');
    expect(m.perSeed!['2']!.values).toEqual({ 'attacks.cw.params.note': 'b' });
    expect(m.diagnostics.map((d) => d.message)).toEqual(['[seed 1] seed 1 says so', '[seed 2] seed 2 says so']);
    expect(renderMarkdown(merged)).toMatch(/\| m ⚠ \| ard \| — \| 75\.0 ± 35\.4 \| 37\.5 ± 17\.7 \|/);
  });

  it('keeps the source checkout only when every seed was evaluated from the same one, and the report names it', () => {
    const at = (commit: string, modified = false) => ({ source: { commit: commit.repeat(40), modified } });
    const same = mergeResults([{ ...one, ...at('a') }, { ...two, ...at('a') }]);
    expect(same.source).toEqual({ commit: 'a'.repeat(40), modified: false });
    expect(() => parseResults(JSON.parse(JSON.stringify(same)))).not.toThrow();
    expect(renderMarkdown(same)).toContain('Tempered t (commit aaaaaaa)');
    expect(mergeResults([{ ...one, ...at('a') }, { ...two, ...at('b') }]).source).toBeUndefined();
    expect(mergeResults([{ ...one, ...at('a') }, { ...two, ...at('a', true) }]).source).toBeUndefined();
    expect(mergeResults([{ ...one, ...at('a') }, two]).source).toBeUndefined();
    expect(renderMarkdown(mergeResults([{ ...one, ...at('c', true) }]))).toContain('Tempered t (commit ccccccc, with uncommitted changes)');
  });
});

describe('mergeResults refuses what does not belong together', () => {
  const config = (seed: number, width = 32, trainSize = 200) => ({ name: 'x', seeds: [seed], model: { name: 'mlp', params: { width } }, dataset: { name: 'mnist', params: { trainSize } } });
  const tm = () => threatModel(['pgd', null, null, 'pgd'], [[0, 0], [1, 1]]);
  const withConfig = (seed: number, c: Record<string, unknown>): ResultsFile => ({ ...run(seed, { clean: 1, tm: tm(), cwL2: 1, budget: 0.2, gradients: [1e-3], note: 'a' }), config: c });

  it('merges seeds of one config, recording the config with all its seeds', () => {
    const merged = mergeResults([withConfig(1, config(1)), withConfig(2, config(2))], ['a/results.json', 'b/results.json']);
    expect(merged.seeds).toEqual([1, 2]);
    expect(merged.config).toEqual({ ...config(1), seeds: [1, 2] });
  });

  it('names the first config field that differs (the probe: width 32 on 200 digits against 128 on 300)', () => {
    expect(() => mergeResults([withConfig(1, config(1)), withConfig(2, config(2, 128, 300))], ['a/results.json', 'b/results.json'])).toThrow(
      /^b\/results\.json: model\.params\.width is 128 but 32 in a\/results\.json; only runs whose configs differ in the seed alone are merged$/,
    );
  });

  it('refuses the same seed twice (the same run given twice would fake a spread of 0)', () => {
    expect(() => mergeResults([withConfig(1, config(1)), withConfig(1, config(1))], ['a/results.json', 'a2/results.json'])).toThrow(/^a2\/results\.json: seed 1 is already in a\/results\.json; each seed is merged once/);
    // Without recorded configs too.
    const plain = run(1, { clean: 1, tm: tm(), cwL2: 1, budget: 0.2, gradients: [1e-3], note: 'a' });
    expect(() => mergeResults([plain, plain])).toThrow(/seed 1 is already in results\[0\]/);
  });

  it('refuses to merge a file without a recorded config with one that has it', () => {
    const plain = run(2, { clean: 1, tm: tm(), cwL2: 1, budget: 0.2, gradients: [1e-3], note: 'a' });
    expect(() => mergeResults([withConfig(1, config(1)), plain], ['a', 'old'])).toThrow(/^old: records no run config/);
  });

  it('without recorded configs, still refuses runs of different methods or method params', () => {
    const a = run(1, { clean: 1, tm: tm(), cwL2: 1, budget: 0.2, gradients: [1e-3], note: 'a' });
    const b = run(2, { clean: 1, tm: tm(), cwL2: 1, budget: 0.2, gradients: [1e-3], note: 'a' });
    const other = { ...b, models: { m: { ...b.models['m']!, methodParams: { epochs: 3 } } } };
    expect(() => mergeResults([a, other])).toThrow(/models\.m\.methodParams\.epochs is 3 but absent in results\[0\]/);
  });
});

describe('mergeResults (ensembles that stopped early on one seed)', () => {
  it("unites the seeds' lists of attacks that ran, in first-seen order, instead of dropping them", () => {
    // Seed 1: APGD-CE broke every example, so APGD-T never ran; seed 2: both ran.
    const early = { ...threatModel(['pgd', 'pgd', 'pgd', 'pgd'], [[0, 0], [1, 0]]), ran: ['autoattack/apgd-ce'] };
    const full = { ...threatModel(['pgd', null, 'pgd', 'pgd'], [[0, 0], [1, 0.5]]), ran: ['autoattack/apgd-ce', 'autoattack/apgd-t'] };
    const base = { clean: 1, cwL2: 1, budget: 0.5, gradients: [1e-3, 1e-3], note: 'n' };
    const one = run(1, { ...base, tm: early });
    const two = run(2, { ...base, tm: full });
    (one.models['m']!.attacks as Record<string, AttackSummary>)['autoattack'] = { ...cw(1, 0.5), name: 'autoattack', ran: ['apgd-ce'] };
    (two.models['m']!.attacks as Record<string, AttackSummary>)['autoattack'] = { ...cw(1, 0.5), name: 'autoattack', ran: ['apgd-ce', 'apgd-t'] };
    const merged = mergeResults([one, two]);
    expect(merged.models['m']!.threatModels['linf:0.3']!.ran).toEqual(['autoattack/apgd-ce', 'autoattack/apgd-t']);
    expect(merged.models['m']!.attacks['autoattack']!.ran).toEqual(['apgd-ce', 'apgd-t']);
    expect(() => parseResults(JSON.parse(JSON.stringify(merged)))).not.toThrow();
  });
});
