import { ConfigError } from '@tempered/core/pure';
import { RESULTS_SCHEMA_VERSION, type Diagnostic, type ModelResults, type ModelSpread, type ResultsFile, type SeedSpecific, type ThreatModelResult } from './schema.js';
import { mean, std } from './stats.js';
import { compareModels } from './comparisons.js';

/**
 * Merging runs of the same models with different seeds. Every number becomes the mean over the
 * seeds that measured it, with its sample standard deviation at the same path under `std`;
 * arrays of equal length (histogram counts, sweep points, per-class tables, budget tables,
 * training curves, intervals) merge element by element. A number that is null on some seeds is
 * averaged over the others and the seeds that lacked it are listed under `missing`. What
 * cannot be averaged — which attack broke which example — is kept per seed under `perSeed`;
 * diagnostics are united (a warning on any seed matters); the image grids are the first seed's.
 */

type Path = readonly string[];

interface MergeState {
  readonly seeds: ReadonlyArray<readonly number[]>;
  readonly missing: Record<string, number[]>;
  /** Path → per-seed values of non-numeric fields that differ between seeds. */
  readonly varies: Record<string, unknown[]>;
}

interface Merged {
  readonly value: unknown;
  readonly spread?: unknown;
}

/** Fields the generic merge leaves alone (handled explicitly, or bookkeeping of earlier merges). */
const EXPLICIT = new Set(['diagnostics', 'examples', 'seeds', 'std', 'missing', 'perSeed']);

function isNumeric(v: unknown): v is number | null | undefined {
  return v === null || v === undefined || typeof v === 'number';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeNode(values: readonly unknown[], path: Path, state: MergeState): Merged {
  if (values.every((v) => v === undefined)) return { value: undefined };
  // Attacks that ran (threat models, ensembles): every seed's, in first-seen order. An ensemble
  // stops early on a seed whose first component breaks every example, so the lists can differ.
  if (path.at(-1) === 'ran' && values.every((v) => v === undefined || Array.isArray(v))) return { value: [...new Set(values.flatMap((v) => (v as unknown[] | undefined) ?? []))] };
  if (values.every(isNumeric)) {
    const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (finite.length === 0) return { value: null };
    if (finite.length < values.length) {
      state.missing[path.join('.')] = values.flatMap((v, i) => (typeof v === 'number' && Number.isFinite(v) ? [] : [...state.seeds[i]!]));
    }
    return { value: mean(finite), ...(finite.length > 1 ? { spread: std(finite) } : {}) };
  }
  if (values.every(Array.isArray)) {
    const arrays = values as unknown[][];
    const length = arrays[0]!.length;
    if (arrays.every((a) => a.length === length)) {
      const merged = Array.from({ length }, (_, i) => mergeNode(arrays.map((a) => a[i]), [...path, String(i)], state));
      const hasSpread = merged.some((m) => m.spread !== undefined);
      return { value: merged.map((m) => m.value), ...(hasSpread ? { spread: merged.map((m) => m.spread ?? null) } : {}) };
    }
  }
  if (values.every((v) => isRecord(v) || v === undefined)) {
    const records = values as Array<Record<string, unknown> | undefined>;
    const keys = [...new Set(records.flatMap((r) => (r ? Object.keys(r) : [])))].filter((k) => !(path.length === 0 && EXPLICIT.has(k)));
    const value: Record<string, unknown> = {};
    const spread: Record<string, unknown> = {};
    for (const key of keys) {
      const merged = mergeNode(records.map((r) => r?.[key]), [...path, key], state);
      if (merged.value !== undefined) value[key] = merged.value;
      if (merged.spread !== undefined) spread[key] = merged.spread;
    }
    return { value, ...(Object.keys(spread).length > 0 ? { spread } : {}) };
  }
  const first = JSON.stringify(values[0]);
  if (values.every((v) => JSON.stringify(v) === first)) return { value: values[0] };
  // Different non-numeric values: each seed's is kept under perSeed, never only the first seed's.
  state.varies[path.join('.')] = [...values];
  return { value: values.every((v) => typeof v === 'string') ? [...new Set(values as string[])].join(' | ') : null };
}

function seedsOf(file: ResultsFile, model: ModelResults): number[] {
  if (model.seeds) return [...model.seeds];
  if (file.seeds) return [...file.seeds];
  return file.seed !== undefined ? [file.seed] : [];
}

/** Per-example facts of the threat models: brokenBy and broken, which seeds do not share. */
function seedSpecific(model: ModelResults, values: Record<string, unknown>): SeedSpecific {
  const threatModels: Record<string, Pick<ThreatModelResult, 'brokenBy' | 'broken'>> = {};
  for (const [key, tm] of Object.entries(model.threatModels ?? {})) {
    threatModels[key] = { ...(tm.brokenBy ? { brokenBy: tm.brokenBy } : {}), ...(tm.broken ? { broken: tm.broken } : {}) };
  }
  return { threatModels, ...(Object.keys(values).length > 0 ? { values } : {}) };
}

/** Threat models without the per-example fields, breaker counts with explicit zeros, so they average. */
function averageable(model: ModelResults, breakerNames: ReadonlyMap<string, ReadonlySet<string>>): ModelResults {
  const threatModels: Record<string, ThreatModelResult> = {};
  for (const [key, tm] of Object.entries(model.threatModels ?? {})) {
    const { brokenBy: _brokenBy, broken: _broken, ...rest } = tm;
    const breakers = Object.fromEntries([...(breakerNames.get(key) ?? [])].map((name) => [name, tm.breakers[name] ?? 0]));
    threatModels[key] = { ...rest, breakers };
  }
  return { ...model, threatModels };
}

/** The worst class recomputed from the merged per-class table (a mean of labels means nothing). */
function withWorstClass(threatModels: Record<string, ThreatModelResult>): Record<string, ThreatModelResult> {
  const out: Record<string, ThreatModelResult> = {};
  for (const [key, tm] of Object.entries(threatModels)) {
    let worst: ThreatModelResult['worstClass'] = null;
    for (const c of tm.perClass) if (c.robustAccuracy !== null && (worst === null || c.robustAccuracy < worst.robustAccuracy!)) worst = { label: c.label, robustAccuracy: c.robustAccuracy };
    out[key] = { ...tm, worstClass: worst };
  }
  return out;
}

/** Several seeds' results of one model → means in the usual fields, std, missing and perSeed beside them. */
function mergeModel(entries: ReadonlyArray<{ file: ResultsFile; model: ModelResults }>): ModelResults {
  const first = entries[0]!.model;
  const seeds = entries.flatMap((e) => seedsOf(e.file, e.model));
  if (entries.length === 1) return { ...first, seeds };
  const breakerNames = new Map<string, Set<string>>();
  for (const { model } of entries) {
    for (const [key, tm] of Object.entries(model.threatModels ?? {})) {
      const names = breakerNames.get(key) ?? new Set<string>();
      for (const name of Object.keys(tm.breakers)) names.add(name);
      breakerNames.set(key, names);
    }
  }
  const state: MergeState = { seeds: entries.map((e) => seedsOf(e.file, e.model)), missing: {}, varies: {} };
  const merged = mergeNode(entries.map((e) => averageable(e.model, breakerNames)), [], state);
  const value = merged.value as ModelResults;
  const perSeed: Record<string, SeedSpecific> = {};
  entries.forEach((e, i) => {
    const values = Object.fromEntries(Object.entries(state.varies).map(([path, all]) => [path, all[i]]));
    perSeed[state.seeds[i]!.join(',') || String(i)] = seedSpecific(e.model, values);
  });
  return {
    ...value,
    threatModels: withWorstClass({ ...value.threatModels }),
    diagnostics: unitedDiagnostics(entries),
    examples: first.examples,
    seeds,
    std: (merged.spread ?? {}) as ModelSpread,
    ...(Object.keys(state.missing).length > 0 ? { missing: state.missing } : {}),
    perSeed,
  };
}

/** Diagnostics from every seed, each once, prefixed with the seeds that reported it. */
function unitedDiagnostics(entries: ReadonlyArray<{ file: ResultsFile; model: ModelResults }>): Diagnostic[] {
  const seen = new Map<string, { diagnostic: Diagnostic; seeds: number[] }>();
  for (const e of entries) {
    for (const d of e.model.diagnostics) {
      const key = `${d.id}|${d.status ?? ''}|${d.severity}|${d.message}`;
      const found = seen.get(key) ?? { diagnostic: d, seeds: [] };
      found.seeds.push(...seedsOf(e.file, e.model));
      seen.set(key, found);
    }
  }
  return [...seen.values()].map(({ diagnostic, seeds }) => (seeds.length > 0 ? { ...diagnostic, message: `[seed ${seeds.join(',')}] ${diagnostic.message}` } : diagnostic));
}

/** The first path at which two JSON values differ (`students[1].params.epochs`), or undefined when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): { path: string; a: unknown; b: unknown } | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const found = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (isRecord(a) && isRecord(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
      const found = firstDifference(a[key], b[key], path ? `${path}.${key}` : key);
      if (found) return found;
    }
    return undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : { path: path || '(whole value)', a, b };
}

function fileSeeds(file: ResultsFile): number[] {
  return file.seeds ? [...file.seeds] : file.seed !== undefined ? [file.seed] : [];
}

/** What must agree between runs merged as seeds: the recorded config without its seeds (older files: what results.json records of it). */
function setupOf(file: ResultsFile): unknown {
  if (file.config) {
    const { seeds: _seeds, seed: _seed, ...rest } = file.config as Record<string, unknown>;
    return { config: rest };
  }
  return {
    dataset: file.dataset,
    evaluatedExamples: file.evaluatedExamples,
    models: Object.fromEntries(Object.entries(file.models).map(([name, m]) => [name, { method: m.method, methodParams: m.methodParams ?? null }])),
  };
}

const brief = (value: unknown): string => {
  const text = value === undefined ? 'absent' : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};

/**
 * Refuses runs that are not seeds of one experiment: their recorded configs must agree in every
 * field but the seed (the first field that differs is named), and each seed may appear once.
 */
function checkMergeable(results: readonly ResultsFile[], sources: readonly string[]): void {
  const name = (i: number): string => sources[i] ?? `results[${i}]`;
  const withConfig = results.map((r) => r.config !== undefined);
  if (withConfig.some(Boolean) && !withConfig.every(Boolean)) {
    const i = withConfig.indexOf(false);
    throw new ConfigError(name(i), `records no run config (written by an older Tempered) while ${name(withConfig.indexOf(true))} does; cannot check that they are seeds of one config, so they are not merged`);
  }
  const firstSeenIn = new Map<number, number>();
  results.forEach((r, i) => {
    for (const seed of fileSeeds(r)) {
      const earlier = firstSeenIn.get(seed);
      if (earlier !== undefined) throw new ConfigError(name(i), `seed ${seed} is already in ${name(earlier)}; each seed is merged once (the same run given twice would fake a spread of 0)`);
      firstSeenIn.set(seed, i);
    }
  });
  const reference = setupOf(results[0]!);
  results.forEach((r, i) => {
    const diff = i === 0 ? undefined : firstDifference(reference, setupOf(r));
    if (diff) {
      const field = diff.path.replace(/^config\./, '');
      throw new ConfigError(name(i), `${field} is ${brief(diff.b)} but ${brief(diff.a)} in ${name(0)}; only runs whose configs differ in the seed alone are merged`);
    }
  });
}

/**
 * Combines results files of one config run with different seeds (refused otherwise, naming the
 * first field that differs; `sources` name the files in messages). Models with the same name
 * become one entry whose numbers are the mean across runs, with `std` holding the sample
 * standard deviations, `missing` the seeds that lacked a number, `perSeed` what cannot be
 * averaged and `seeds` the seeds.
 */
export function mergeResults(results: readonly ResultsFile[], sources: readonly string[] = []): ResultsFile {
  if (results.length === 0) throw new ConfigError('mergeResults', 'expected at least one results file');
  for (const r of results) {
    if (r.schemaVersion !== RESULTS_SCHEMA_VERSION) throw new ConfigError('schemaVersion', `expected ${RESULTS_SCHEMA_VERSION}, got ${r.schemaVersion}`);
  }
  checkMergeable(results, sources);
  const evaluated = new Set(results.map((r) => r.evaluatedExamples));
  if (evaluated.size > 1) throw new ConfigError('evaluatedExamples', `runs evaluated different counts (${[...evaluated].join(', ')}); merged numbers would not be comparable`);
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
  // The test split does not depend on the run's seed: the same dataset and count mean the same examples, in order.
  const sameExamples = results.every((r) => r.dataset.name === first.dataset.name && r.dataset.size === first.dataset.size && r.evaluatedExamples === first.evaluatedExamples);
  const merged: ResultsFile = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tempered: first.tempered,
    createdAt: new Date().toISOString(),
    dataset: first.dataset,
    evaluatedExamples: first.evaluatedExamples,
    backend: first.backend,
    ...(seeds.length === 1 ? { seed: seeds[0]! } : { seeds }),
    ...(first.config ? { config: { ...first.config, seeds } } : {}),
    models,
    ...(results.length > 1 ? { seedsShareTestExamples: sameExamples } : {}),
    // One machine, and one source checkout, only when every run says the same (shards of a cluster run may differ).
    ...agreed(results, 'machine'),
    ...agreed(results, 'source'),
  };
  return { ...merged, comparisons: compareModels(merged) };
}

/** `{ [key]: value }` when every run records the same value under `key`, else nothing. */
function agreed<K extends 'machine' | 'source'>(results: readonly ResultsFile[], key: K): Partial<Pick<ResultsFile, K>> {
  const value = results[0]?.[key];
  return value !== undefined && results.every((r) => JSON.stringify(r[key]) === JSON.stringify(value)) ? ({ [key]: value } as Partial<Pick<ResultsFile, K>>) : {};
}
