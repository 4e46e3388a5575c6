import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { StepProgress, writeJsonAtomic, type BackendInfo, type DatasetSplits, type Student, type Teacher } from '@tempered/core';
import { evaluate, renderReports, type TeacherInfo, type TrainingCurves } from '@tempered/reports';
import type { RunConfig } from './config.js';

/** Per-model training curves as the trainer reported them, keyed by phase. */
export interface TrainingCurve {
  epochs: Array<{ phase: string; epoch: number; loss: number; accuracy?: number; terms: Record<string, number> }>;
}

function toCurves(curve: TrainingCurve | undefined): TrainingCurves | undefined {
  if (!curve) return undefined;
  const out: Record<string, Array<{ epoch: number; loss: number; accuracy?: number; [k: string]: number | undefined }>> = {};
  for (const e of curve.epochs) (out[e.phase] ??= []).push({ epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, ...e.terms });
  return out;
}

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
  readonly methods: Readonly<Record<string, { method: string; params: Record<string, unknown>; teacher?: TeacherInfo }>>;
  readonly curves: ReadonlyMap<string, TrainingCurve>;
  readonly container: DependencyContainer;
  readonly pluginModules: readonly string[];
  readonly quiet: boolean;
  readonly log: (line: string) => void;
}

/** Attacks every trained model, writes results.json, report.md and report.html; returns the results path. */
export async function evaluateRun(args: EvaluateRunArgs): Promise<string> {
  const { config } = args;
  args.log(`evaluating ${args.students.size} model(s) on the first ${Math.min(config.evaluation.examples, args.splits.test.size)} test examples`);
  const models = [...args.students.entries()].map(([name, model]) => ({
    name,
    method: args.methods[name]!.method,
    methodParams: args.methods[name]!.params,
    model,
    teacher: args.studentTeachers?.get(name) ?? args.teacher,
    ...(args.methods[name]!.teacher ? { teacherInfo: args.methods[name]!.teacher } : {}),
    training: toCurves(args.curves.get(name)),
  }));
  // A bar with ETA on a TTY, one plain line per step (clean pass, attack, sweep point) otherwise.
  const progress = new StepProgress({ quiet: args.quiet });
  let results: Awaited<ReturnType<typeof evaluate>> | undefined;
  try {
    results = await evaluate({
      container: args.container,
      models,
      test: args.splits.test,
      examples: config.evaluation.examples,
      attacks: config.evaluation.attacks.map((a) => ({ name: a.name, key: a.as, params: a.params, mode: a.mode })),
      seed: args.seed,
      workers: config.evaluation.workers,
      plugins: args.pluginModules,
      backend: args.backend.name === 'tensorflow' ? 'tensorflow' : args.backend.name === 'wasm' ? 'wasm' : 'cpu',
      diagnostics: config.evaluation.diagnostics ? {} : false,
      onProgress: (message, step) => (step ? progress.step(step.done, step.total, message) : progress.note(message)),
      ...config.evaluation.params,
    });
  } finally {
    progress.end(results ? 'evaluation done' : 'evaluation stopped');
  }
  const withRun = {
    ...results,
    seed: args.seed,
    backend: { ...results.backend, name: args.backend.name, source: args.backend.source },
    dataset: { ...results.dataset, name: config.dataset.name },
  };
  const path = join(args.out, 'results.json');
  writeJsonAtomic(path, withRun);
  renderReports(args.out);
  return path;
}
