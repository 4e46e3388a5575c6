import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { container, type DependencyContainer } from 'tsyringe';
import { ConfigError, TOKENS, getPlugin, listPlugins, registerPlugin, type Metric } from '@tempered/core';
import { fixedBatches, type AttackBatchOutput, type AttackJob, type BatchRange, type ExampleSlice } from '../attack-batches.js';
import { diagnose } from '@tempered/reports';
import { EVALUATED_MODEL } from '../metrics/gradient-norms.js';
import type { AttackRecord } from '@tempered/attacks';
import type { IndexedEvaluationBatch } from '../metrics/rows.js';
import { register } from '../register.js';
import { RESULTS_SCHEMA_VERSION, type AdversarialExample, type AttackSummary, type GradientHistogram, type MetricValue, type ModelResults, type ResultsFile } from '@tempered/reports';
import { finiteOrNull, rateInterval } from '@tempered/reports';
import { cleanAccuracyOf, computeThreatModels, type AttackRun } from '../threat-models.js';
import { metric, runAttack } from './attack-run.js';
import { addBudgets } from './budgets.js';
import { featureSizeOf, sliceOf } from './examples.js';
import { attackKeys, diagnosticsOf, plannedRuns, rerunsOf, sweepOf, type EvaluationOptions, type MetricConfig, type ModelUnderEvaluation, type PlannedRun } from './options.js';
import { progressSink, type ProgressSink } from './progress.js';
import { planReruns, rerunSteps, runReruns, type RerunPlan } from './reruns.js';
import { createRunner, type AttackRunner, type ModelEntry } from './runner.js';
import { runSweep, sweepSteps } from './sweep.js';

/** The package version written into results.json. */
export const TEMPERED_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Registers the built-in metrics the container lacks (the caller may have registered only attacks, or replaced some). */
function registerMissing(scope: DependencyContainer): void {
  const present = new Set(listPlugins(scope, TOKENS.Metric));
  const builtins = container.createChildContainer(); // apart from the caller's, so nothing clashes
  register(builtins);
  for (const name of listPlugins(builtins, TOKENS.Metric)) {
    if (!present.has(name)) registerPlugin(scope, TOKENS.Metric, getPlugin(builtins, TOKENS.Metric, name));
  }
}

/** What every model of one evaluation shares. */
interface RunContext {
  readonly options: EvaluationOptions;
  readonly runs: readonly PlannedRun[];
  readonly plans: readonly RerunPlan[];
  readonly runner: AttackRunner;
  readonly handles: ReadonlyMap<string, ModelEntry>;
  readonly slice: ExampleSlice;
  readonly batches: readonly BatchRange[];
  readonly seed: number;
  readonly progress: ProgressSink;
  readonly transferCache: Map<string, Promise<AttackBatchOutput[]>>;
}

/**
 * Evaluates each model on the first N test examples (in order): clean accuracy, confidence,
 * agreement, input-gradient histograms, every configured attack with its metrics and 95 %
 * intervals, the per-example worst case per (norm, ε) threat model with per-class accuracy,
 * budget tables of minimum-distortion attacks, the diagnostics' extra runs (ε sweep, margin
 * PGD, restart / more-steps / transfer re-runs) and the checks themselves. Returns a results
 * object of schema version 2 (write it with {@link writeResults}).
 *
 * @example
 * ```ts
 * const results = await evaluate({
 *   container, test: splits.test, examples: 1000, seed: 1, workers: 2, plugins: ['@tempered/attacks'],
 *   models: [{ name: 'distilled-T100', method: 'defensive-distillation', model }],
 *   attacks: [{ name: 'fgsm', params: { epsilon: 0.3 } }, { name: 'pgd', params: { epsilon: 0.3, stepSize: 0.01875 } },
 *             { name: 'jsma', mode: 'targeted' }, { name: 'cw' }],
 * });
 * results.models['distilled-T100'].threatModels['linf:0.3'].robustAccuracy;
 * ```
 */
export async function evaluate(options: EvaluationOptions): Promise<ResultsFile> {
  const count = Math.min(options.examples ?? 1000, options.test.size);
  if (!(count > 0)) throw new ConfigError('evaluation.examples', `expected a positive count, got ${options.examples}`);
  const seed = options.seed ?? 0;
  const runs = plannedRuns(options, attackKeys(options.attacks));
  const diagnostics = diagnosticsOf(options);
  const plans = rerunsOf(diagnostics) ? planReruns(options.container, runs) : [];
  const stepsOf = (model: string) => 1 + runs.length + sweepSteps(sweepOf(diagnostics)) + rerunSteps(options, plans, model);
  const firstSteps = options.models.map((_, i) => options.models.slice(0, i).reduce((n, m) => n + stepsOf(m.name), 0));
  const total = options.models.reduce((n, m) => n + stepsOf(m.name), 0);
  const progress = progressSink(options.onProgress, total);
  const runner = await createRunner(options);
  const handles = new Map(options.models.map((m, i) => [m.name, { id: `${i}:${m.name}`, model: m.model } satisfies ModelEntry]));
  for (const m of options.transferSources ?? []) if (!handles.has(m.name)) handles.set(m.name, { id: `source:${m.name}`, model: m.model });
  const context: RunContext = {
    options, runs, plans, runner, handles, progress, seed,
    slice: sliceOf(options.test, count),
    batches: fixedBatches(count, options.batchSize ?? 50),
    transferCache: new Map(),
  };
  const models: Record<string, ModelResults> = {};
  try {
    for (const [index, entry] of options.models.entries()) {
      progress.moveTo(firstSteps[index]!); // a skipped sweep must not shift the next model's count
      models[entry.name] = await evaluateModel(context, entry);
    }
  } finally {
    await runner.close();
  }
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tempered: TEMPERED_VERSION,
    createdAt: new Date().toISOString(),
    dataset: { name: options.test.name, split: 'test', size: options.test.size },
    evaluatedExamples: count,
    backend: runner.backend,
    seed,
    models,
  };
}

interface CleanPass {
  readonly correct: boolean[];
  readonly cleanAccuracy: number;
  readonly confidence: number | null;
  readonly agreement: number | null;
  readonly gradientHistogram: GradientHistogram;
  readonly lossGradientHistogram: GradientHistogram;
}

/** The configured metric plugins of one model, fresh (each is created from the registry by name). */
interface PluginMetrics {
  readonly entries: ReadonlyArray<{ readonly key: string; readonly config: MetricConfig; readonly metric: Metric }>;
}

function createPluginMetrics(scope: DependencyContainer, configs: readonly MetricConfig[]): PluginMetrics {
  const seen = new Set<string>();
  return {
    entries: configs.map((config, i) => {
      const key = config.key ?? config.name;
      if (seen.has(key)) throw new ConfigError(`evaluation.metrics[${i}]`, `"${key}" is used twice; give one of them another key`);
      seen.add(key);
      return { key, config, metric: metric(scope, config.name, config.params ?? {}) };
    }),
  };
}

/** A metric's result checked against {@link MetricValueSchema}: a number (non-finite → null), null, or an object of them. */
export function metricValue(key: string, value: unknown): MetricValue {
  const scalar = (v: unknown, field: string): number | null => {
    if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return null;
    if (typeof v === 'number') return v;
    throw new ConfigError(field, `expected a metric result that is a number, null or an object of numbers, got ${JSON.stringify(v)}`);
  };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scalar(v, `evaluation.metrics.${key}.${k}`)]));
  }
  return scalar(value, `evaluation.metrics.${key}`);
}

/** Clean accuracy (per example), confidence, agreement and the gradient histograms; plugin metrics see every clean batch. */
async function cleanPass(context: RunContext, entry: ModelUnderEvaluation, scope: DependencyContainer, plugins: PluginMetrics): Promise<CleanPass> {
  const { slice, batches, options } = context;
  const { model } = entry;
  const featureSize = featureSizeOf(slice);
  const confidence = metric<number>(scope, 'confidence');
  const agreement = metric<number>(scope, 'agreement');
  const probabilityGradients = metric<GradientHistogram>(scope, 'gradient-norms', { quantity: 'probability', norm: 'l1' });
  const lossGradients = metric<GradientHistogram>(scope, 'gradient-norms', { quantity: 'loss', norm: 'l2' });
  const gradientExamples = Math.min(slice.labels.length, options.gradientExamples ?? 200);
  const correct: boolean[] = [];
  for (const range of batches) {
    const x = tf.tensor(slice.x.subarray(range.start * featureSize, (range.start + range.count) * featureSize), [range.count, ...slice.inputShape], 'float32');
    const labels = tf.tensor1d(slice.labels.subarray(range.start, range.start + range.count), 'int32');
    const logits = tf.tidy(() => model.logits(x, { training: false }));
    const teacherLogits = entry.teacher ? tf.tidy(() => entry.teacher!.logits(x, { training: false })) : undefined;
    try {
      const batch: IndexedEvaluationBatch = {
        modelName: entry.name,
        x,
        labels,
        logits,
        indices: Int32Array.from({ length: range.count }, (_, i) => range.start + i),
        ...(teacherLogits ? { teacherLogits } : {}),
      };
      for (const m of [confidence, agreement, ...plugins.entries.map((p) => p.metric)]) await m.update(batch);
      const predictions = tf.tidy(() => tf.argMax(logits, 1).dataSync());
      for (let i = 0; i < range.count; i++) correct.push(predictions[i] === slice.labels[range.start + i]);
      if (range.start < gradientExamples) {
        const keep = Math.min(range.count, gradientExamples - range.start);
        const sub: IndexedEvaluationBatch = keep === range.count ? batch : { ...batch, x: x.slice(0, keep), labels: labels.slice(0, keep), logits: logits.slice(0, keep) };
        try {
          for (const m of [probabilityGradients, lossGradients]) await m.update(sub);
        } finally {
          if (sub !== batch) tf.dispose([sub.x, sub.labels, sub.logits]);
        }
      }
    } finally {
      tf.dispose([x, labels, logits]);
      teacherLogits?.dispose();
    }
  }
  return {
    correct,
    // Computed once from the per-example outcome the threat models also use.
    cleanAccuracy: cleanAccuracyOf({ correct }),
    confidence: finiteOrNull(confidence.result()),
    agreement: finiteOrNull(agreement.result()),
    gradientHistogram: probabilityGradients.result(),
    lossGradientHistogram: lossGradients.result(),
  };
}

async function evaluateModel(context: RunContext, entry: ModelUnderEvaluation): Promise<ModelResults> {
  const { options, slice, batches, seed, progress, runner } = context;
  const handle = context.handles.get(entry.name)!;
  const scope = options.container.createChildContainer();
  scope.register(EVALUATED_MODEL, { useValue: entry.model });
  // The evaluation needs its own metrics even when the caller registered only attacks.
  registerMissing(scope);
  const count = slice.labels.length;

  const plugins = createPluginMetrics(scope, options.metrics ?? []);
  progress.step(`${entry.name}: clean pass over ${count} examples`);
  const clean = await cleanPass(context, entry, scope, plugins);

  const attacks: Record<string, AttackSummary> = {};
  const examples: Record<string, AdversarialExample[]> = {};
  const records: AttackRun[] = [];
  const rowsByKey = new Map<string, readonly AttackRecord[]>();
  for (const { key, config } of context.runs) {
    const mode = config.mode ?? 'untargeted'; // resolved by plannedRuns
    const job: AttackJob = { key, name: config.name, params: config.params ?? {}, mode, seed, modelName: entry.name };
    progress.step(`${entry.name}: ${key} (${mode}) on ${count} examples`);
    const outcome = await runAttack(scope, runner, handle, job, slice, batches, options.examplesPerAttack ?? 4, clean.correct, plugins.entries.map((p) => p.metric));
    attacks[key] = outcome.summary;
    examples[key] = outcome.examples;
    records.push(outcome.record);
    rowsByKey.set(key, outcome.record.rows);
  }
  let threatModels = computeThreatModels(records, { labels: slice.labels, correct: clean.correct, classes: slice.numClasses });
  addBudgets(attacks, rowsByKey, threatModels, count);

  const diagnostics = diagnosticsOf(options);
  const sweep = sweepOf(diagnostics);
  const epsilonSweep = sweep ? await runSweep(options, sweep, handle, runner, slice, seed, scope, progress) : undefined;
  const reruns = rerunsOf(diagnostics);
  if (reruns) threatModels = await runReruns({ ...context, reruns, handle }, threatModels, attacks);
  const partial: ModelResults = {
    method: entry.method,
    ...(entry.methodParams ? { methodParams: entry.methodParams } : {}),
    ...(entry.teacherInfo ? { teacher: entry.teacherInfo } : {}),
    ...(entry.teachersInfo ? { teachers: { ...entry.teachersInfo } } : {}),
    classes: slice.numClasses,
    cleanAccuracy: clean.cleanAccuracy,
    cleanAccuracyInterval: rateInterval(clean.cleanAccuracy, count),
    confidence: clean.confidence,
    ...(entry.teacher ? { agreement: clean.agreement, agreementInterval: rateInterval(clean.agreement, count) } : {}),
    threatModels,
    attacks,
    gradientHistogram: clean.gradientHistogram,
    lossGradientHistogram: clean.lossGradientHistogram,
    ...(epsilonSweep ? { epsilonSweep } : {}),
    ...(plugins.entries.length > 0
      ? { metrics: Object.fromEntries(plugins.entries.map(({ key, config, metric: m }) => [key, { name: config.name, params: config.params ?? {}, value: metricValue(key, m.result()) }])) }
      : {}),
    diagnostics: [],
    ...(entry.training ? { training: entry.training } : {}),
    examples,
  };
  return { ...partial, diagnostics: diagnostics ? diagnose(partial, diagnostics.thresholds) : [] };
}
