import { ConfigError } from '@tempered/core';
import { RESULTS_SCHEMA_VERSION, type AttackSummary, type ModelResults, type ModelSpread, type ResultsFile } from './schema.js';
import { mean, std } from './stats.js';

const ATTACK_NUMBERS = [
  'successRate',
  'robustAccuracy',
  'meanL0',
  'medianL0',
  'meanL2',
  'medianL2',
  'meanLinf',
  'medianLinf',
  'rhoAdv',
  'meanIterations',
] as const;
const MODEL_NUMBERS = ['cleanAccuracy', 'confidence', 'agreement', 'worstCaseRobustAccuracy'] as const;

function stats(values: ReadonlyArray<number | null | undefined>): { mean: number | null; std: number | null } {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return { mean: null, std: null };
  return { mean: mean(finite), std: std(finite) };
}

function seedsOf(file: ResultsFile, model: ModelResults): number[] {
  if (model.seeds) return [...model.seeds];
  if (file.seeds) return [...file.seeds];
  return file.seed !== undefined ? [file.seed] : [];
}

/** Several seeds' results of one model → mean in the usual fields, std beside them. */
function mergeModel(entries: ReadonlyArray<{ file: ResultsFile; model: ModelResults }>): ModelResults {
  const first = entries[0]!.model;
  const seeds = entries.flatMap((e) => seedsOf(e.file, e.model));
  if (entries.length === 1) return { ...first, seeds };
  const spread: Record<string, unknown> = {};
  const out: Record<string, unknown> = { ...first };
  for (const field of MODEL_NUMBERS) {
    const s = stats(entries.map((e) => e.model[field]));
    if (field === 'agreement' && first.agreement === undefined) continue;
    out[field] = field === 'cleanAccuracy' ? (s.mean ?? Number.NaN) : s.mean;
    if (s.std !== null) spread[field] = s.std;
  }
  const attacks: Record<string, AttackSummary> = {};
  const attackSpread: Record<string, Record<string, number>> = {};
  for (const [key, summary] of Object.entries(first.attacks)) {
    const runs = entries.map((e) => e.model.attacks[key]).filter((a): a is AttackSummary => a !== undefined);
    const merged: Record<string, unknown> = { ...summary };
    const deviations: Record<string, number> = {};
    for (const field of ATTACK_NUMBERS) {
      if (!(field in summary)) continue;
      const s = stats(runs.map((r) => r[field]));
      merged[field] = s.mean;
      if (s.std !== null) deviations[field] = s.std;
    }
    attacks[key] = merged as unknown as AttackSummary;
    attackSpread[key] = deviations;
  }
  if (first.epsilonSweep) {
    const points = first.epsilonSweep.points.map((p, i) => ({
      epsilon: p.epsilon,
      robustAccuracy: stats(entries.map((e) => e.model.epsilonSweep?.points[i]?.robustAccuracy)).mean,
      successRate: stats(entries.map((e) => e.model.epsilonSweep?.points[i]?.successRate)).mean,
    }));
    out['epsilonSweep'] = { ...first.epsilonSweep, points };
  }
  // Diagnostics from every seed, each once: a warning on any seed matters.
  const seen = new Set<string>();
  out['diagnostics'] = entries.flatMap((e) =>
    e.model.diagnostics
      .filter((d) => {
        const key = `${d.id}|${d.severity}|${d.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .map((d) => (entries.length > 1 && seedsOf(e.file, e.model).length ? { ...d, message: `[seed ${seedsOf(e.file, e.model).join(',')}] ${d.message}` } : d))
  );
  out['attacks'] = attacks;
  out['seeds'] = seeds;
  out['std'] = { ...spread, attacks: attackSpread } satisfies ModelSpread;
  return out as unknown as ModelResults;
}

/**
 * Combines results files. Models with the same name (runs with different seeds) become one
 * entry whose numbers are the mean across runs, with `std` holding the sample standard
 * deviations and `seeds` the seeds; models with different names are united.
 */
export function mergeResults(results: readonly ResultsFile[]): ResultsFile {
  if (results.length === 0) throw new ConfigError('mergeResults', 'expected at least one results file');
  for (const r of results) {
    if (r.schemaVersion !== RESULTS_SCHEMA_VERSION) throw new ConfigError('schemaVersion', `expected ${RESULTS_SCHEMA_VERSION}, got ${r.schemaVersion}`);
  }
  const groups = new Map<string, Array<{ file: ResultsFile; model: ModelResults }>>();
  for (const file of results) {
    for (const [name, model] of Object.entries(file.models)) {
      const group = groups.get(name) ?? [];
      group.push({ file, model });
      groups.set(name, group);
    }
  }
  const models: Record<string, ModelResults> = {};
  for (const [name, entries] of groups) models[name] = mergeModel(entries);
  const seeds = [...new Set(results.flatMap((r) => (r.seeds ? [...r.seeds] : r.seed !== undefined ? [r.seed] : [])))].sort((a, b) => a - b);
  const first = results[0]!;
  const evaluated = new Set(results.map((r) => r.evaluatedExamples));
  if (evaluated.size > 1) throw new ConfigError('evaluatedExamples', `runs evaluated different counts (${[...evaluated].join(', ')}); merged numbers would not be comparable`);
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tempered: first.tempered,
    createdAt: new Date().toISOString(),
    dataset: first.dataset,
    evaluatedExamples: first.evaluatedExamples,
    backend: first.backend,
    ...(seeds.length === 1 ? { seed: seeds[0]! } : { seeds }),
    models,
  };
}
