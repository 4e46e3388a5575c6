import { gradientHistogram, DEFAULT_HISTOGRAM_AXIS, type ModelResults, type ResultsFile, type TeacherInfo } from './index.js';

/** Spec fixtures of results files with per-example outcomes (no tensors). */

const histogram = gradientHistogram([1e-3], { ...DEFAULT_HISTOGRAM_AXIS, temperature: 1, quantity: 'loss' as const, norm: 'l2' as const });

/** A model whose per-example outcomes under L∞ 0.3 are `brokenBy` ('clean': wrong on the clean input, null: robust). */
export function model(brokenBy: Array<string | null>, extra: Partial<ModelResults> = {}): ModelResults {
  const n = brokenBy.length;
  const clean = brokenBy.filter((b) => b !== 'clean').length / n;
  const robust = brokenBy.filter((b) => b === null).length / n;
  return {
    method: 'm', classes: 10, cleanAccuracy: clean, confidence: null,
    threatModels: {
      'linf:0.3': { norm: 'linf', epsilon: 0.3, attacks: ['pgd'], ran: ['pgd'], evaluated: n, cleanAccuracy: clean, robustAccuracy: robust, breakers: {}, brokenBy, perClass: [], worstClass: null },
    },
    attacks: {}, gradientHistogram: histogram, lossGradientHistogram: histogram, diagnostics: [], examples: {},
    ...extra,
  };
}

/** brokenBy for counts of (robust, broken by pgd, wrong on clean), in that order. */
export const outcomes = (robust: number, broken: number, wrong: number): Array<string | null> => [
  ...Array<null>(robust).fill(null), ...Array<string>(broken).fill('pgd'), ...Array<string>(wrong).fill('clean'),
];

export const teacher: TeacherInfo = { name: 'teacher', source: 'trained', method: 'trades' };

export function file(models: Record<string, ModelResults>, seed = 1): ResultsFile {
  const n = Object.values(models)[0]!.threatModels['linf:0.3']!.evaluated;
  return { schemaVersion: 2, tempered: 't', createdAt: '2026-12-07T00:00:00.000Z', dataset: { name: 'd', split: 'test', size: 100 }, evaluatedExamples: n, backend: { name: 'cpu', workers: 0 }, seed, models };
}

/** Issue 24's demo: on 100 digits ARD and CRDND both keep 16, ARD alone 10, CRDND alone 4. */
export function demo(): ResultsFile {
  // Example order: 16 kept by both, 10 by ARD only, 4 by CRDND only, 70 by neither (all clean-correct but 5 / 8).
  const ard = [...outcomes(16, 0, 0), ...outcomes(10, 0, 0), ...outcomes(0, 4, 0), ...outcomes(0, 65, 5)];
  const crdnd = [...outcomes(16, 0, 0), ...outcomes(0, 10, 0), ...outcomes(4, 0, 0), ...outcomes(0, 62, 8)];
  const teacherRuns = [...outcomes(7, 0, 0), ...outcomes(0, 79, 14)];
  const baseline = [...outcomes(0, 99, 1)];
  return file({
    teacher: model(teacherRuns, { method: 'trades', taught: ['ard', 'crdnd'] }),
    baseline: model(baseline, { method: 'standard' }),
    ard: model(ard, { method: 'ard', teacher }),
    crdnd: model(crdnd, { method: 'crdnd', teacher }),
  });
}

