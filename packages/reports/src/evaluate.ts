import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import type { DependencyContainer } from 'tsyringe';
import {
  ConfigError,
  TOKENS,
  createPlugin,
  listPlugins,
  type AttackMode,
  type BackendPreference,
  type Dataset,
  type Metric,
  type Model,
  type Norm,
} from '@tempered/core';
import {
  createJobAttack,
  fixedBatches,
  runAttackBatches,
  type AttackBatchOutput,
  type AttackJob,
  type BatchRange,
  type ExampleSlice,
} from './attack-batches.js';
import { diagnose, type DiagnosticThresholds } from './diagnostics.js';
import { EVALUATED_MODEL } from './metrics/gradient-norms.js';
import type { DistortionResult } from './metrics/distortion.js';
import { attackRows, type AttackRow, type IndexedEvaluationBatch } from './metrics/rows.js';
import { EvaluationPool, serializeModel, type SerializedModel } from './pool.js';
import {
  RESULTS_SCHEMA_VERSION,
  type AdversarialExample,
  type AttackSummary,
  type BudgetedSuccess,
  type EpsilonSweep,
  type GradientHistogram,
  type ModelResults,
  type ResultsFile,
  type TeacherInfo,
  type TrainingCurves,
} from './schema.js';
import { finiteOrNull, mean } from './stats.js';
import { register } from './register.js';

/** The package version written into results.json. */
export const TEMPERED_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A model to evaluate. */
export interface ModelUnderEvaluation {
  /** Key in `results.models`. */
  readonly name: string;
  /** Training method, e.g. "defensive-distillation". */
  readonly method: string;
  readonly model: Model;
  /** When given, teacher–student agreement is measured. */
  readonly teacher?: Model;
  readonly methodParams?: Record<string, unknown>;
  /** How the teacher was made, recorded as `results.models.<m>.teacher`. */
  readonly teacherInfo?: TeacherInfo;
  readonly training?: TrainingCurves;
}

/** One attack to run: a registered name, its params and the mode. */
export interface AttackConfig {
  readonly name: string;
  /** Key in `results.models.<m>.attacks`; default the name (suffixed -2, -3 … when repeated). */
  readonly key?: string;
  readonly params?: Record<string, unknown>;
  /** Default 'untargeted'; 'targeted' attacks every other class (Papernot et al.). */
  readonly mode?: AttackMode;
}

/** The ε sweep of the masking checks (see {@link DiagnosticsOptions.sweep}). */
export interface SweepOptions {
  readonly attack?: string;
  readonly params?: Record<string, unknown>;
  readonly epsilons?: readonly number[];
  readonly examples?: number;
}

/** The extra runs the gradient-masking checks need. Defaults are cheap. */
export interface DiagnosticsOptions {
  /**
   * PGD ε sweep for the robust-accuracy-vs-ε chart and check 2. `epsilons` are fractions of the
   * input range (default [0.05, 0.1, 0.2, 0.3, 0.5, 1]); `examples` defaults to min(N, 50);
   * `params` default to the first configured attack named `attack` (default 'pgd'). Any
   * `stepSize` parameter keeps its ratio to ε. false disables.
   */
  readonly sweep?: false | SweepOptions;
  /**
   * A margin-loss PGD at the budget of each configured CE-PGD (check 3). 'auto' (default) adds
   * `{ loss: 'margin' }` to the PGD's params when the attack accepts a `loss` parameter.
   */
  readonly marginAttack?: 'auto' | false | AttackConfig;
  readonly thresholds?: Partial<DiagnosticThresholds>;
}

export interface EvaluationOptions {
  /** Container where attacks (and any metric plugins) are registered. */
  readonly container: DependencyContainer;
  readonly models: readonly ModelUnderEvaluation[];
  /** The test split: the first `examples` examples, in order, are evaluated. */
  readonly test: Dataset;
  /** N, default 1000 (capped at the split's size). */
  readonly examples?: number;
  readonly attacks: readonly AttackConfig[];
  /** Examples per batch (targeted runs have K − 1 rows per example). Default 50. */
  readonly batchSize?: number;
  readonly seed?: number;
  /** Worker threads; 0 (default) runs in-process. */
  readonly workers?: number;
  /** Plugin module specifiers each worker imports and `register`s (e.g. ['@tempered/attacks', '@tempered/models']). */
  readonly plugins?: readonly string[];
  /** Workers' backend. Default 'auto' (wasm with @tempered/wasm-train kernels when available, else cpu). */
  readonly backend?: BackendPreference;
  readonly diagnostics?: DiagnosticsOptions | false;
  /** Adversarial examples kept per attack for the report's grids. Default 4. */
  readonly examplesPerAttack?: number;
  /** Gradient histograms measure the first this-many examples. Default min(N, 200). */
  readonly gradientExamples?: number;
  /**
   * Progress (e.g. for the CLI). With `step`, the message starts step `done + 1` of `total` (a clean
   * pass, an attack or a sweep point, per model); without, it is a note (a part skipped).
   */
  readonly onProgress?: (message: string, step?: { done: number; total: number }) => void;
}

/** Where evaluateModel reports: steps advance the count, notes do not. */
interface ProgressSink {
  step(message: string): void;
  note(message: string): void;
}

/** ε fractions of the input range the sweep of check 3 uses by default. */
const DEFAULT_SWEEP_EPSILONS = [0.05, 0.1, 0.2, 0.3, 0.5, 1];

/** Runs attack jobs, in-process or on a worker pool; results always in batch order. */
interface AttackRunner {
  run(entry: ModelEntry, job: AttackJob, slice: ExampleSlice, batches: readonly BatchRange[]): Promise<AttackBatchOutput[]>;
  readonly backend: { name: string; source: string; workers: number };
  close(): Promise<void>;
}

interface ModelEntry {
  readonly id: string;
  readonly model: Model;
  serialized?: SerializedModel;
}

async function createRunner(options: EvaluationOptions): Promise<AttackRunner> {
  const workers = options.workers ?? 0;
  if (workers === 0) {
    return {
      run: (entry, job, slice, batches) => runAttackBatches(entry.model, options.container, job, slice, batches),
      backend: { name: tf.getBackend(), source: 'in-process', workers: 0 },
      close: async () => {},
    };
  }
  const pool = await EvaluationPool.start({ workers, plugins: options.plugins ?? [], backend: options.backend ?? 'auto' });
  return {
    async run(entry, job, slice, batches) {
      entry.serialized ??= await serializeModel(entry.model);
      return pool.attack(entry.id, entry.serialized, job, slice, batches);
    },
    backend: { ...pool.backend, workers },
    close: () => pool.close(),
  };
}

function sliceOf(test: Dataset, count: number): ExampleSlice {
  const { x, labels } = test.batch(Int32Array.from({ length: count }, (_, i) => i));
  try {
    return {
      start: 0,
      x: Float32Array.from(x.dataSync()),
      labels: Int32Array.from(labels.dataSync()),
      inputShape: test.inputShape,
      numClasses: test.numClasses,
    };
  } finally {
    x.dispose();
    labels.dispose();
  }
}

function metric<R>(container: DependencyContainer, name: string, params: Record<string, unknown> = {}): Metric<R> {
  return createPlugin(container, TOKENS.Metric, name, params) as Metric<R>;
}

/** Unique result keys for configured attacks. */
function attackKeys(attacks: readonly AttackConfig[]): string[] {
  const seen = new Map<string, number>();
  return attacks.map((a) => {
    if (a.key) {
      if (seen.has(a.key)) throw new ConfigError(`attacks.${a.key}`, 'duplicate key');
      seen.set(a.key, 1);
      return a.key;
    }
    const n = (seen.get(a.name) ?? 0) + 1;
    seen.set(a.name, n);
    return n === 1 ? a.name : `${a.name}-${n}`;
  });
}

/** Row outcomes of an attack's outputs, fed to the metrics batch by batch. */
async function feedAttack(
  model: Model,
  outputs: readonly AttackBatchOutput[],
  slice: ExampleSlice,
  attackName: string,
  mode: AttackMode,
  metrics: readonly Metric[],
  onRows: (rows: AttackRow[], output: AttackBatchOutput) => void,
): Promise<void> {
  const featureSize = slice.inputShape.reduce((a, b) => a * b, 1);
  for (const output of outputs) {
    const rows = output.indices.length;
    const pixels = new Float32Array(rows * featureSize);
    for (let r = 0; r < rows; r++) {
      const from = (output.indices[r]! - slice.start) * featureSize;
      pixels.set(slice.x.subarray(from, from + featureSize), r * featureSize);
    }
    const x = tf.tensor(pixels, [rows, ...slice.inputShape], 'float32');
    const labels = tf.tensor1d(output.labels, 'int32');
    const adversarial = tf.tensor(output.adversarial, [rows, ...slice.inputShape], 'float32');
    const targets = output.targets ? tf.tensor1d(output.targets, 'int32') : undefined;
    const logits = tf.tidy(() => model.logits(x, { training: false }));
    const adversarialLogits = tf.tidy(() => model.logits(adversarial, { training: false }));
    try {
      const batch: IndexedEvaluationBatch = {
        modelName: model.name,
        x,
        labels,
        logits,
        indices: output.indices,
        attack: {
          name: attackName,
          mode,
          adversarial,
          adversarialLogits,
          ...(targets ? { targets } : {}),
          iterations: output.iterations,
        },
      };
      for (const m of metrics) await m.update(batch);
      onRows(attackRows(batch), output);
    } finally {
      tf.dispose([x, labels, adversarial, logits, adversarialLogits]);
      targets?.dispose();
    }
  }
}

function distanceIn(row: AttackRow, norm: Norm): number {
  return norm === 'l0' ? row.l0 : norm === 'l2' ? row.l2 : row.linf;
}

function round3(values: Float32Array): number[] {
  return Array.from(values, (v) => Math.round(v * 1000) / 1000);
}

/**
 * Evaluates each model on the first N test examples (in order): clean accuracy, confidence,
 * agreement, input-gradient histograms, every configured attack with its metrics, worst-case
 * robust accuracy, the extra runs of the masking checks (ε sweep, margin PGD) and the checks
 * themselves. Returns a schema-1 results object (write it with {@link writeResults}).
 *
 * @example
 * ```ts
 * const results = await evaluate({
 *   container, test: splits.test, examples: 1000, seed: 1, workers: 2, plugins: ['@tempered/attacks'],
 *   models: [{ name: 'distilled-T100', method: 'defensive-distillation', model }],
 *   attacks: [{ name: 'fgsm', params: { epsilon: 0.3 } }, { name: 'pgd', params: { epsilon: 0.3 } },
 *             { name: 'jsma', mode: 'targeted' }, { name: 'cw' }],
 * });
 * ```
 */
export async function evaluate(options: EvaluationOptions): Promise<ResultsFile> {
  const count = Math.min(options.examples ?? 1000, options.test.size);
  if (!(count > 0)) throw new ConfigError('evaluation.examples', `expected a positive count, got ${options.examples}`);
  const batchSize = options.batchSize ?? 50;
  const seed = options.seed ?? 0;
  const keys = attackKeys(options.attacks);
  const slice = sliceOf(options.test, count);
  const batches = fixedBatches(count, batchSize);
  const report = options.onProgress ?? (() => {});
  const diagnostics = diagnosticsOf(options);
  const sweep = sweepOf(diagnostics);
  const stepsPerModel = 1 + plannedRuns(options, keys).length + (sweep ? (sweep.epsilons ?? DEFAULT_SWEEP_EPSILONS).length : 0);
  const total = options.models.length * stepsPerModel;
  let done = 0;
  const progress: ProgressSink = { step: (message) => report(message, { done: done++, total }), note: (message) => report(message) };
  const runner = await createRunner(options);
  const models: Record<string, ModelResults> = {};
  try {
    for (const [modelIndex, entry] of options.models.entries()) {
      const handle: ModelEntry = { id: `${modelIndex}:${entry.name}`, model: entry.model };
      done = modelIndex * stepsPerModel; // a skipped sweep must not shift the next model's count
      models[entry.name] = await evaluateModel(options, entry, handle, runner, keys, slice, batches, seed, progress);
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

async function evaluateModel(
  options: EvaluationOptions,
  entry: ModelUnderEvaluation,
  handle: ModelEntry,
  runner: AttackRunner,
  keys: readonly string[],
  slice: ExampleSlice,
  batches: readonly BatchRange[],
  seed: number,
  progress: ProgressSink,
): Promise<ModelResults> {
  const { model } = entry;
  const scope = options.container.createChildContainer();
  scope.register(EVALUATED_MODEL, { useValue: model });
  // The evaluation needs its own metrics even when the caller registered only attacks.
  if (!listPlugins(scope, TOKENS.Metric).includes('clean-accuracy')) register(scope);
  const count = slice.labels.length;
  const featureSize = slice.inputShape.reduce((a, b) => a * b, 1);

  // Clean pass: accuracy, confidence, agreement, gradient histograms.
  const cleanAccuracy = metric<number>(scope, 'clean-accuracy');
  const confidence = metric<number>(scope, 'confidence');
  const agreement = metric<number>(scope, 'agreement');
  const worstCase = metric<number>(scope, 'worst-case-robust-accuracy');
  const probabilityGradients = metric<GradientHistogram>(scope, 'gradient-norms', { quantity: 'probability', norm: 'l1' });
  const lossGradients = metric<GradientHistogram>(scope, 'gradient-norms', { quantity: 'loss', norm: 'l2' });
  const gradientExamples = Math.min(count, options.gradientExamples ?? 200);
  progress.step(`${entry.name}: clean pass over ${count} examples`);
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
      for (const m of [cleanAccuracy, confidence, agreement, worstCase]) await m.update(batch);
      if (range.start < gradientExamples) {
        const keep = Math.min(range.count, gradientExamples - range.start);
        const sub: IndexedEvaluationBatch =
          keep === range.count
            ? batch
            : { ...batch, x: x.slice(0, keep), labels: labels.slice(0, keep), logits: logits.slice(0, keep) };
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

  // Configured attacks, plus the margin-loss PGD of check 3.
  const runs = plannedRuns(options, keys);
  const diagnostics = diagnosticsOf(options);

  const attacks: Record<string, AttackSummary> = {};
  const examples: Record<string, AdversarialExample[]> = {};
  const rowsByKey = new Map<string, AttackRow[]>();
  for (const { key, config } of runs) {
    const mode = config.mode ?? 'untargeted';
    const job: AttackJob = { key, name: config.name, params: config.params ?? {}, mode, seed, modelName: entry.name };
    const attack = createJobAttack(scope, job);
    progress.step(`${entry.name}: ${key} (${mode}) on ${count} examples`);
    const outputs = await runner.run(handle, job, slice, batches);
    const robust = metric<number>(scope, 'robust-accuracy');
    const success = metric<number>(scope, 'success-rate');
    const distortion = metric<DistortionResult>(scope, 'distortion');
    const rho = metric<number>(scope, 'adversarial-robustness', { attack: attack.name });
    const kept: AdversarialExample[] = [];
    const allRows: AttackRow[] = [];
    const perExample = options.examplesPerAttack ?? 4;
    await feedAttack(model, outputs, slice, attack.name, mode, [robust, success, distortion, rho, worstCase], (rows, output) => {
      allRows.push(...rows);
      for (let r = 0; r < rows.length && kept.length < perExample; r++) {
        const row = rows[r]!;
        // One row per example, preferring successes, so the grid shows what the attack does.
        if (!row.success || kept.some((k) => k.index === row.example)) continue;
        const from = (row.example - slice.start) * featureSize;
        kept.push({
          index: row.example,
          label: row.label,
          ...(row.target !== undefined ? { target: row.target } : {}),
          cleanPrediction: row.cleanPrediction,
          adversarialPrediction: row.adversarialPrediction,
          success: row.success,
          shape: [...slice.inputShape],
          clean: round3(slice.x.subarray(from, from + featureSize)),
          adversarial: round3(output.adversarial.subarray(r * featureSize, (r + 1) * featureSize)),
        });
      }
    });
    rowsByKey.set(key, allRows);
    const d = distortion.result();
    const iterations = outputs.flatMap((o) => Array.from(o.iterations));
    attacks[key] = {
      name: attack.name,
      params: attack.params(),
      mode,
      norm: attack.norm,
      epsilon: Number.isFinite(attack.epsilon) ? attack.epsilon : null,
      evaluated: count,
      pairs: allRows.length,
      successRate: finiteOrNull(success.result()),
      robustAccuracy: finiteOrNull(robust.result()),
      meanL0: finiteOrNull(d.meanL0),
      medianL0: finiteOrNull(d.medianL0),
      meanL2: finiteOrNull(d.meanL2),
      medianL2: finiteOrNull(d.medianL2),
      meanLinf: finiteOrNull(d.meanLinf),
      medianLinf: finiteOrNull(d.medianLinf),
      ...(attack.name === 'jsma' || attack.norm === 'l0' ? { rhoAdv: finiteOrNull(rho.result()) } : {}),
      meanIterations: finiteOrNull(mean(iterations)),
    };
    examples[key] = kept;
  }
  addBudgets(attacks, rowsByKey, count);

  const sweep = sweepOf(diagnostics);
  const epsilonSweep = sweep ? await runSweep(options, sweep, handle, runner, slice, seed, scope, progress) : undefined;
  const partial: ModelResults = {
    method: entry.method,
    ...(entry.methodParams ? { methodParams: entry.methodParams } : {}),
    ...(entry.teacherInfo ? { teacher: entry.teacherInfo } : {}),
    cleanAccuracy: cleanAccuracy.result(),
    confidence: finiteOrNull(confidence.result()),
    ...(entry.teacher ? { agreement: finiteOrNull(agreement.result()) } : {}),
    worstCaseRobustAccuracy: finiteOrNull(worstCase.result()),
    attacks,
    gradientHistogram: probabilityGradients.result(),
    lossGradientHistogram: lossGradients.result(),
    ...(epsilonSweep ? { epsilonSweep } : {}),
    diagnostics: [],
    ...(entry.training ? { training: entry.training } : {}),
    examples,
  };
  return { ...partial, diagnostics: diagnostics ? diagnose(partial, diagnostics.thresholds) : [] };
}

/** The ε-sweep settings, or undefined when the checks or the sweep are off. */
function sweepOf(diagnostics: DiagnosticsOptions | undefined): SweepOptions | undefined {
  return diagnostics && diagnostics.sweep !== false ? (diagnostics.sweep ?? {}) : undefined;
}

/** The masking-check settings, or undefined when the checks are off. */
function diagnosticsOf(options: EvaluationOptions): DiagnosticsOptions | undefined {
  return options.diagnostics === false ? undefined : (options.diagnostics ?? {});
}

/** The configured attacks plus the margin-loss PGD runs of check 3, in the order they run. */
function plannedRuns(options: EvaluationOptions, keys: readonly string[]): Array<{ key: string; config: AttackConfig }> {
  const runs = options.attacks.map((config, i) => ({ key: keys[i]!, config }));
  const diagnostics = diagnosticsOf(options);
  return diagnostics ? [...runs, ...marginRuns(options, runs, diagnostics)] : runs;
}

/** Margin-loss twins of the configured untargeted PGD runs, when the attack accepts `loss`. */
function marginRuns(
  options: EvaluationOptions,
  runs: ReadonlyArray<{ key: string; config: AttackConfig }>,
  diagnostics: DiagnosticsOptions,
): Array<{ key: string; config: AttackConfig }> {
  const setting = diagnostics.marginAttack ?? 'auto';
  if (setting === false) return [];
  if (setting !== 'auto') return [{ key: setting.key ?? `${setting.name}-margin`, config: setting }];
  const out: Array<{ key: string; config: AttackConfig }> = [];
  for (const { key, config } of runs) {
    if (config.name !== 'pgd' || (config.mode ?? 'untargeted') !== 'untargeted' || config.params?.['loss'] !== undefined) continue;
    const params = { ...config.params, loss: 'margin' };
    try {
      createPlugin(options.container, TOKENS.Attack, config.name, params);
    } catch {
      continue; // this PGD has no margin loss; check 3 then relies on C&W alone
    }
    out.push({ key: `${key}-margin`, config: { ...config, key: `${key}-margin`, params } });
  }
  return out;
}

/** Success of minimum-distortion attacks (ε = ∞) within each bounded attack's budget. */
function addBudgets(attacks: Record<string, AttackSummary>, rowsByKey: Map<string, AttackRow[]>, count: number): void {
  const budgets = new Map<string, { norm: Norm; epsilon: number }>();
  for (const a of Object.values(attacks)) {
    if (a.epsilon !== null && a.mode === 'untargeted') budgets.set(`${a.norm}:${a.epsilon}`, { norm: a.norm, epsilon: a.epsilon });
  }
  for (const [key, summary] of Object.entries(attacks)) {
    if (summary.epsilon !== null || summary.mode !== 'untargeted' || budgets.size === 0) continue;
    const rows = rowsByKey.get(key) ?? [];
    const list: BudgetedSuccess[] = [];
    for (const { norm, epsilon } of budgets.values()) {
      const tolerance = 1e-5 * Math.max(1, epsilon);
      const within = (row: AttackRow) => row.success && distanceIn(row, norm) <= epsilon + tolerance;
      const attackable = rows.filter((r) => r.attackable);
      const fooled = new Set(rows.filter(within).map((r) => r.example));
      const robust = new Set(attackable.map((r) => r.example).filter((e) => !fooled.has(e)));
      list.push({
        norm,
        epsilon,
        successRate: attackable.length === 0 ? null : attackable.filter(within).length / attackable.length,
        robustAccuracy: count === 0 ? null : robust.size / count,
      });
    }
    attacks[key] = { ...summary, budgets: list };
  }
}

async function runSweep(
  options: EvaluationOptions,
  sweep: SweepOptions,
  handle: ModelEntry,
  runner: AttackRunner,
  slice: ExampleSlice,
  seed: number,
  scope: DependencyContainer,
  progress: ProgressSink,
): Promise<EpsilonSweep | undefined> {
  const attackName = sweep.attack ?? 'pgd';
  const configured = options.attacks.find((a) => a.name === attackName && (a.mode ?? 'untargeted') === 'untargeted');
  const baseParams = sweep.params ?? configured?.params ?? {};
  let base;
  try {
    base = createPlugin(scope, TOKENS.Attack, attackName, baseParams);
  } catch (error) {
    progress.note(`ε sweep skipped: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  const baseValues = base.params();
  const range = handle.model.bounds.max - handle.model.bounds.min;
  const fractions = sweep.epsilons ?? DEFAULT_SWEEP_EPSILONS;
  const count = Math.min(slice.labels.length, sweep.examples ?? 50);
  const part: ExampleSlice = { ...slice, x: slice.x.subarray(0, count * slice.inputShape.reduce((a, b) => a * b, 1)), labels: slice.labels.subarray(0, count) };
  const batches = fixedBatches(count, options.batchSize ?? 50);
  const points = [];
  for (const fraction of fractions) {
    const epsilon = fraction * range;
    const params: Record<string, unknown> = { ...baseParams, epsilon };
    const baseEpsilon = baseValues['epsilon'];
    const baseStep = baseValues['stepSize'];
    if (typeof baseStep === 'number' && typeof baseEpsilon === 'number' && baseEpsilon > 0) params['stepSize'] = (baseStep / baseEpsilon) * epsilon;
    const key = `sweep-${attackName}-${epsilon}`;
    progress.step(`${handle.model.name}: ε sweep ${attackName} ε = ${epsilon} on ${count} examples`);
    const job: AttackJob = { key, name: attackName, params, mode: 'untargeted', seed, modelName: handle.model.name };
    const outputs = await runner.run(handle, job, part, batches);
    const robust = metric<number>(scope, 'robust-accuracy');
    const success = metric<number>(scope, 'success-rate');
    await feedAttack(handle.model, outputs, part, attackName, 'untargeted', [robust, success], () => {});
    points.push({ epsilon, robustAccuracy: finiteOrNull(robust.result()), successRate: finiteOrNull(success.result()) });
  }
  return { attack: attackName, params: baseValues, norm: base.norm, evaluated: count, range, points };
}
