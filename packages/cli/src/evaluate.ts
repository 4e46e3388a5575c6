import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform } from 'node:os';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { StepProgress, TOKENS, getPlugin, type BackendInfo, type ProgressSink, type DatasetSplits, type Student, type Teacher } from '@tempered/core/node';
import { evaluate, type DiagnosticsOptions } from '@tempered/evaluation/node';
import { RESULTS_FILE, markTeachers, renderReports, withComparisons, writeResults, type Source, type TeacherInfo, type TrainingCurves } from '@tempered/reports/node';
import type { RunConfig } from './config.js';
import { sourceOf } from './source.js';

export interface EvaluateRunArgs {
  readonly config: RunConfig;
  readonly seed: number;
  readonly out: string;
  readonly backend: BackendInfo;
  readonly splits: DatasetSplits;
  readonly teacher?: Teacher;
  /** Students that distil from another student of the run: their teacher (agreement is measured against it). */
  readonly studentTeachers?: ReadonlyMap<string, Teacher>;
  readonly students: ReadonlyMap<string, Student>;
  readonly methods: Readonly<Record<string, { method: string; params: Record<string, unknown>; teacher?: TeacherInfo; teachers?: Readonly<Record<string, TeacherInfo>> }>>;
  /** Each model's training curves (results' own type, see curvesFromLog). */
  readonly curves: ReadonlyMap<string, TrainingCurves>;
  /** The transfer check's source (a model of `students` or `transferSources`); absent: none. */
  readonly transferFrom?: string;
  /** Models not evaluated here but available as the transfer check's source (see @tempered/evaluation). */
  readonly transferSources?: ReadonlyArray<{ readonly name: string; readonly method: string; readonly model: Student }>;
  readonly container: DependencyContainer;
  readonly pluginModules: readonly string[];
  readonly quiet: boolean;
  readonly log: (line: string) => void;
  /** Where the progress bar or lines go (default stderr; a worker process sends them to its parent). */
  readonly progressStream?: NodeJS.WriteStream;
  readonly progressTty?: boolean;
  /** Progress events instead of drawn text (see JobContext.progressSink). */
  readonly progressSink?: ProgressSink;
}

type Results = Awaited<ReturnType<typeof evaluate>>;
type Diagnostics = NonNullable<RunConfig['evaluation']['params']['diagnostics']>;

function withTransfer(diagnostics: Diagnostics, transferFrom: string | false): DiagnosticsOptions {
  return { ...diagnostics, reruns: diagnostics.reruns === false ? false : { ...diagnostics.reruns, transferFrom } };
}

/** Attacks the given trained models; returns their results (the run's fields filled in), writing nothing. */
export async function evaluateRun(args: EvaluateRunArgs): Promise<Results> {
  const { config } = args;
  args.log(`evaluating ${[...args.students.keys()].join(', ')} on the first ${Math.min(config.evaluation.examples, args.splits.test.size)} test examples`);
  const models = [...args.students.entries()].map(([name, model]) => ({
    name,
    method: args.methods[name]!.method,
    methodParams: args.methods[name]!.params,
    model,
    teacher: args.studentTeachers?.get(name) ?? args.teacher,
    ...(args.methods[name]!.teacher ? { teacherInfo: args.methods[name]!.teacher } : {}),
    ...(args.methods[name]!.teachers ? { teachersInfo: args.methods[name]!.teachers } : {}),
    ...(args.curves.has(name) ? { training: args.curves.get(name)! } : {}),
  }));
  const { batchSize, examplesPerAttack, gradientExamples, diagnostics } = config.evaluation.params;
  // A bar with ETA on a TTY, one plain line per step (clean pass, attack, sweep point) otherwise.
  const progress = new StepProgress({ quiet: args.quiet, stream: args.progressStream, tty: args.progressTty, sink: args.progressSink });
  let results: Results | undefined;
  try {
    results = await evaluate({
      container: args.container,
      models,
      transferSources: args.transferSources,
      test: args.splits.test,
      examples: config.evaluation.examples,
      attacks: config.evaluation.attacks.map((a) => ({ name: a.name, key: a.as, params: a.params, ...(a.mode ? { mode: a.mode } : {}) })),
      metrics: config.evaluation.metrics.map((m) => ({ name: m.name, key: m.as, params: m.params })),
      seed: args.seed,
      workers: config.evaluation.workers,
      plugins: args.pluginModules,
      backend: args.backend.name === 'tensorflow' ? 'tensorflow' : args.backend.name === 'wasm' ? 'wasm' : 'cpu',
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(examplesPerAttack !== undefined ? { examplesPerAttack } : {}),
      ...(gradientExamples !== undefined ? { gradientExamples } : {}),
      // The plan chose the transfer source (evaluation.transferFrom or its default); none is none.
      diagnostics: config.evaluation.diagnostics ? withTransfer(diagnostics ?? {}, args.transferFrom ?? false) : false,
      onProgress: (message, step) => (step ? progress.step(step.done, step.total, message) : progress.note(message)),
    });
  } finally {
    progress.end(results ? 'evaluation done' : 'evaluation stopped');
  }
  return {
    ...results,
    seed: args.seed,
    // The config this seed ran (seeds: this one): `tempered report` merges only runs that agree on the rest.
    config: { ...config, seeds: [args.seed] } as unknown as Record<string, unknown>,
    backend: { ...results.backend, name: args.backend.name, source: args.backend.source },
    dataset: { ...results.dataset, name: config.dataset.name, ...datasetDescription(args.container, config.dataset.name) },
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), platform: `${platform()} ${arch()}` },
    ...withSource(),
  };
}

function withSource(): { source?: Source } {
  const source = sourceOf();
  return source ? { source } : {};
}

/** The dataset plugin's registered description (the leaderboard's model cards quote it), when it has one. */
function datasetDescription(container: DependencyContainer, name: string): { description?: string } {
  const description = getPlugin(container, TOKENS.Dataset, name).description;
  return description ? { description } : {};
}

/** Where one model's evaluation is kept until the seed's results.json is assembled. */
export function evaluationPath(dir: string, model: string): string {
  return join(dir, 'evaluations', `${model}.json`);
}

/**
 * results.json from the models' separate evaluations (each model is evaluated on its own, so
 * nothing but the `models` map and the time differ between them), teachers marked with the
 * students they taught and every pair of models compared, then the report and the leaderboard.
 */
export function assembleResults(dir: string, models: readonly string[]): string {
  const parts = models.map((m) => JSON.parse(readFileSync(evaluationPath(dir, m), 'utf8')) as Results);
  // Comparisons need every model: they are computed here, once the models' evaluations are together.
  writeResults(dir, withComparisons(markTeachers({ ...parts[0]!, createdAt: new Date().toISOString(), models: Object.assign({}, ...parts.map((p) => p.models)) as Results['models'] })));
  renderReports(dir);
  return join(dir, RESULTS_FILE);
}
