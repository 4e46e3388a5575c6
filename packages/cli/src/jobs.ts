import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import {
  CheckpointListener,
  DivergenceError,
  DivergenceGuard,
  JsonlLogger,
  NumericError,
  TemperedError,
  LayersStudent,
  LayersTeacher,
  ModelError,
  ProgressListener,
  type ProgressSink,
  TOKENS,
  Trainer,
  assertCompatible,
  createPlugin,
  getPlugin,
  hasCheckpoint,
  layersModelOf,
  loadCheckpoint,
  loadLayersModel,
  readCheckpointManifest,
  saveLayersModel,
  writeJsonAtomic,
  type BackendInfo,
  type DatasetSource,
  type DatasetSplits,
  type TrainingMethod,
  type Teacher,
} from '@tempered/core/node';
import { mergeResults, parseResults, renderReports, writeResults, type TeacherInfo } from '@tempered/reports/node';
import type { PluginRef, RunConfig } from './config.js';
import { buildModel, curvesFromLog } from './run.js';
import { assembleResults, evaluateRun, evaluationPath } from './evaluate.js';
import { TEACHER, teacherMethod, trainJobId, type EvaluateJob, type Job, type Plan, type ReportJob, type TrainJob } from './plan.js';
import type { StopSignals } from './signals.js';

/**
 * Runs one job of a plan. A job reads only what its dependencies wrote (models/, metrics.jsonl,
 * results.json) and marks itself done with jobs/<id>.done once its outputs are in place, so it
 * runs the same in this process, in a worker process, or in a shard on another machine.
 */

export interface JobContext {
  /** The effective config (seeds and backend overrides applied). */
  readonly config: RunConfig;
  readonly runDir: string;
  readonly container: DependencyContainer;
  readonly pluginModules: readonly string[];
  readonly backend: BackendInfo;
  readonly quiet: boolean;
  readonly log: (line: string) => void;
  readonly stop: StopSignals;
  /** Where training and evaluation progress goes (default stderr). */
  readonly progressStream?: NodeJS.WriteStream;
  readonly progressTty?: boolean;
  /** Progress as events instead of drawn text (a worker process sends them to its parent). */
  readonly progressSink?: ProgressSink;
  /** Called when a signal arrives during evaluation, which keeps nothing partial: exits the process. */
  readonly abortEvaluation: () => void;
  readonly splits: () => Promise<DatasetSplits>;
}

/** Loads the dataset once per process. */
export function datasetLoader(container: DependencyContainer, config: RunConfig): () => Promise<DatasetSplits> {
  let loaded: Promise<DatasetSplits> | undefined;
  return () => (loaded ??= (createPlugin(container, TOKENS.Dataset, config.dataset.name, config.dataset.params) as DatasetSource).load());
}

function markerPath(runDir: string, id: string): string {
  return join(runDir, 'jobs', `${id}.done`);
}

export function jobLockPath(runDir: string, id: string): string {
  return join(runDir, 'jobs', `${id}.lock`);
}

/** Where a job that diverged records it: `--resume` refuses the run while it is there. */
export function divergedPath(runDir: string, id: string): string {
  return join(runDir, 'jobs', `${id}.diverged.json`);
}

/** What a diverged job recorded (see {@link divergedPath}). */
export interface DivergedRecord {
  readonly id: string;
  readonly model: string;
  readonly message: string;
  readonly kept: string;
}

/**
 * Turns a divergence (the guard's DivergenceError, or the trainer's NumericError) into the
 * message a user needs: which checkpoint, if any, is kept (read from disk, not presumed) and
 * what to change; records it so `--resume` can refuse instead of diverging the same way again.
 */
function diverged(error: DivergenceError | NumericError, job: TrainJob, config: RunConfig, runDir: string, checkpointDir: string): TemperedError {
  let kept: string;
  try {
    const manifest = readCheckpointManifest(checkpointDir);
    kept = manifest
      ? `the checkpoint from before it is kept (${join(checkpointDir, 'latest.json')}: phase ${manifest.position.phase}, epoch ${manifest.position.epoch}, batch ${manifest.position.batch})`
      : 'no checkpoint was kept (it diverged before its first epoch ended)';
  } catch {
    kept = `the checkpoint in ${checkpointDir} is unreadable`;
  }
  const field = job.isTeacher ? 'teacher.params.learningRate' : `students[${config.students.findIndex((st) => st.name === job.model)}].params.learningRate`;
  const change = `lower the learning rate of ${job.isTeacher ? 'the teacher' : `"${job.model}"`} (method "${job.method.name}", ${field})${error instanceof DivergenceError ? ', or raise divergence.lossGrowth if this growth is expected' : ''}, then rerun with --force (--resume would diverge the same way)`;
  const message = `${error.message}; ${kept}; ${change}`;
  writeJsonAtomic(divergedPath(runDir, job.id), { id: job.id, model: job.model, message, kept } satisfies DivergedRecord);
  return new TemperedError(message, { cause: error });
}

/** The divergence records of a run directory (one per diverged job). */
export function divergedJobs(runDir: string): DivergedRecord[] {
  const jobs = join(runDir, 'jobs');
  if (!existsSync(jobs)) return [];
  return readdirSync(jobs, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.diverged.json'))
    .map((file) => {
      try {
        return JSON.parse(readFileSync(join(jobs, file), 'utf8')) as DivergedRecord;
      } catch {
        return { id: file.slice(0, -'.diverged.json'.length), model: '?', message: `${join(jobs, file)}: a divergence record (unreadable)`, kept: '' };
      }
    });
}

export function isDone(runDir: string, id: string): boolean {
  return existsSync(markerPath(runDir, id));
}

/** Where a job stopped by a signal keeps the wall time it has run so far, so its done marker counts every session. */
function elapsedPath(runDir: string, id: string): string {
  return join(runDir, 'jobs', `${id}.elapsed.json`);
}

/** Milliseconds earlier sessions of a job ran before they were stopped (0 when none was). */
function earlierSessionsMs(runDir: string, id: string): number {
  const path = elapsedPath(runDir, id);
  if (!existsSync(path)) return 0;
  try {
    const elapsedMs = (JSON.parse(readFileSync(path, 'utf8')) as { elapsedMs?: unknown }).elapsedMs;
    return typeof elapsedMs === 'number' && elapsedMs >= 0 ? elapsedMs : 0;
  } catch {
    return 0;
  }
}

/** durationMs: wall time of every session of the job (a session killed without a signal is not counted). */
function markDone(runDir: string, job: Job, startedMs: number): void {
  const durationMs = Math.round(earlierSessionsMs(runDir, job.id) + performance.now() - startedMs);
  writeJsonAtomic(markerPath(runDir, job.id), { id: job.id, pid: process.pid, host: hostname(), finishedAt: new Date().toISOString(), durationMs });
  rmSync(elapsedPath(runDir, job.id), { force: true });
}

/** Jobs whose dependencies are all done. */
export function dependenciesDone(runDir: string, job: Job): boolean {
  return job.dependsOn.every((id) => isDone(runDir, id));
}

/**
 * Loads a teacher and checks it fits the dataset: the run's teacher from config.teacher.path when
 * given, else any model a job of this seed trained into models/<name>.
 */
export async function loadTeacher(config: RunConfig, dir: string, splits: DatasetSplits, name: string = TEACHER): Promise<Teacher> {
  const path = modelPath(config, dir, name);
  const teacher = new LayersTeacher(await loadLayersModel(path), { name });
  if (teacher.numClasses !== splits.train.numClasses || teacher.inputShape.join('x') !== splits.train.inputShape.join('x')) {
    teacher.dispose();
    throw new ModelError(
      `${path === config.teacher?.path ? 'teacher.path' : path}: teacher takes [${teacher.inputShape.join(', ')}] → ${teacher.numClasses} classes but dataset "${splits.name}" has [${splits.train.inputShape.join(', ')}] → ${splits.train.numClasses} classes`,
    );
  }
  return teacher;
}

async function runTrainJob(job: TrainJob, ctx: JobContext): Promise<boolean> {
  const { container, config } = ctx;
  const dir = join(ctx.runDir, job.dir);
  const splits = await ctx.splits();
  const method = createPlugin(container, TOKENS.Method, job.method.name, job.method.params) as TrainingMethod;
  const student = buildModel(container, job.architecture, job.model, splits, job.seed);
  // A several-teacher student loads each role's teacher once (two roles may name the same model).
  const loaded = new Map<string, Teacher>();
  try {
    for (const name of new Set(job.teachers ? Object.values(job.teachers) : job.teacher && method.teacher !== 'none' ? [job.teacher] : [])) {
      loaded.set(name, await loadTeacher(ctx.config, dir, await ctx.splits(), name));
    }
  } catch (error) {
    for (const t of loaded.values()) t.dispose();
    method.dispose();
    student.dispose();
    throw error;
  }
  const teacher = job.teacher ? loaded.get(job.teacher) : undefined;
  const teachers = job.teachers ? Object.fromEntries(Object.entries(job.teachers).map(([role, name]) => [role, loaded.get(name)!])) : undefined;
  try {
    for (const t of loaded.values()) assertCompatible(t, student);
    ctx.log(`training ${job.model} (${job.method.name})`);
    // The run's own teacher keeps the model names it always had, so its initial weights do too.
    const prefix = job.isTeacher ? '' : `${job.model}-`;
    await method.setup({
      student,
      teacher,
      ...(teachers ? { teachers } : {}),
      createModel: (name) => buildModel(container, job.architecture, `${prefix}${name}`, splits, job.seed),
      train: splits.train,
      batchSize: config.batchSize,
      seed: job.seed,
      container,
    });
    const checkpointDir = join(dir, 'checkpoints', job.model);
    // A job that is not done but has a checkpoint was interrupted: it continues from there,
    // with the interrupted epoch's running metric sums when it stopped mid-epoch.
    const position = hasCheckpoint(checkpointDir) ? await loadCheckpoint(checkpointDir, method) : undefined;
    const resumeTotals = position ? readCheckpointManifest(checkpointDir)?.epochTotals : undefined;
    const trainer = new Trainer().use(
      new ProgressListener({ quiet: ctx.quiet, stream: ctx.progressStream, tty: ctx.progressTty, sink: ctx.progressSink }),
      new JsonlLogger(join(dir, 'metrics.jsonl')),
      // Before the checkpoint listener: a diverged batch stops the run before its weights are saved.
      new DivergenceGuard(config.divergence),
      new CheckpointListener({ dir: checkpointDir, seed: job.seed, handleSignals: false }),
    );
    const unsubscribe = ctx.stop.onStop((signal) => trainer.requestStop(signal));
    let outcome;
    try {
      outcome = await trainer.run(method, { model: job.model, train: splits.train, batchSize: config.batchSize, seed: job.seed, resume: position, resumeTotals });
    } catch (error) {
      if (error instanceof DivergenceError || error instanceof NumericError) throw diverged(error, job, config, ctx.runDir, checkpointDir);
      throw error;
    } finally {
      unsubscribe();
    }
    if (outcome.stopped) return false;
    await saveLayersModel(layersModelOf(method.result(), `saved by method "${job.method.name}"`), join(dir, 'models', job.model));
    return true;
  } finally {
    // The method releases its own models (e.g. defensive distillation's teacher); the student and
    // the run's teacher belong to this job, which may share its process with the next ones.
    method.dispose();
    student.dispose();
    for (const t of loaded.values()) t.dispose();
  }
}

/** A method's resolved params, and whether it distils from a teacher with them. */
function describeMethod(container: DependencyContainer, ref: PluginRef): { params: Record<string, unknown>; usesTeacher: boolean } {
  const method = createPlugin(container, TOKENS.Method, ref.name, ref.params) as TrainingMethod;
  const described = {
    params: method.params(),
    usesTeacher: method.teacher === 'required' || (method.teacher === 'optional' && (method.usesTeacher?.() ?? true)),
  };
  method.dispose();
  return described;
}

/** How a student's teacher was made (results.models.<m>.teacher), or undefined when its method takes none. */
export function teacherInfo(container: DependencyContainer, config: RunConfig, studentName: string): TeacherInfo | undefined {
  const student = config.students.find((s) => s.name === studentName)!;
  if (!describeMethod(container, student.method).usesTeacher) return undefined;
  return modelTeacherInfo(container, config, student.teacher);
}

/**
 * How each role's teacher of a several-teacher student was made (results.models.<m>.teachers,
 * role → teacher in `roles` order, primary first), or undefined for a one-teacher student.
 */
export function teachersInfo(container: DependencyContainer, config: RunConfig, teachers: Readonly<Record<string, string>> | undefined): Record<string, TeacherInfo> | undefined {
  if (!teachers) return undefined;
  return Object.fromEntries(Object.entries(teachers).map(([role, name]) => [role, modelTeacherInfo(container, config, name === TEACHER ? undefined : name)]));
}

/** How a teacher was made: an earlier student of the run (by name), else the run's teacher. */
function modelTeacherInfo(container: DependencyContainer, config: RunConfig, studentName: string | undefined): TeacherInfo {
  if (studentName !== undefined) {
    const source = config.students.find((s) => s.name === studentName)!;
    return { name: source.name, source: 'student', method: source.method.name, methodParams: describeMethod(container, source.method).params, model: (source.model ?? config.model).name };
  }
  if (config.teacher?.path) return { name: TEACHER, source: 'loaded', path: config.teacher.path };
  const method = teacherMethod(config);
  return { name: TEACHER, source: 'trained', method: method.name, methodParams: describeMethod(container, method).params, model: (config.teacher?.model ?? config.model).name };
}

/** Where a model of the seed is saved: the run's teacher at teacher.path when loaded, else models/<name>. */
function modelPath(config: RunConfig, dir: string, name: string): string {
  return name === TEACHER && config.teacher?.path ? config.teacher.path : join(dir, 'models', name);
}

/** How the run's own teacher was made, as results.json records a model's method. */
function runTeacherMethod(container: DependencyContainer, config: RunConfig): { method: string; params: Record<string, unknown> } {
  if (config.teacher?.path) return { method: 'loaded', params: { path: config.teacher.path } };
  const method = teacherMethod(config);
  return { method: method.name, params: describeMethod(container, method).params };
}

async function runEvaluateJob(job: EvaluateJob, ctx: JobContext): Promise<boolean> {
  const { container, config } = ctx;
  const dir = join(ctx.runDir, job.dir);
  const unsubscribe = ctx.stop.onStop(() => ctx.abortEvaluation());
  const student = config.students.find((s) => s.name === job.model);
  // A several-teacher student records every role's teacher, and its primary role's as `teacher` (what reports read).
  const roles = student ? teachersInfo(container, config, job.teachers) : undefined;
  const info = roles ? roles[Object.keys(roles)[0]!] : student ? teacherInfo(container, config, job.model) : undefined;
  const described = student ? { method: student.method.name, params: describeMethod(container, student.method).params } : runTeacherMethod(container, config);
  const methods = { [job.model]: { ...described, ...(info ? { teacher: info } : {}), ...(roles ? { teachers: roles } : {}) } };
  const teacher = job.teacher ? await loadTeacher(config, dir, await ctx.splits(), job.teacher) : undefined;
  // A loaded teacher is checked against the dataset as its students check it (one-line error), before it is attacked.
  if (!student && config.teacher?.path) (await loadTeacher(config, dir, await ctx.splits())).dispose();
  const model = new LayersStudent(await loadLayersModel(modelPath(config, dir, job.model)), { name: job.model });
  const source = job.transferFrom ? config.students.find((s) => s.name === job.transferFrom) : undefined;
  const transferModel = source ? new LayersStudent(await loadLayersModel(join(dir, 'models', source.name)), { name: source.name }) : undefined;
  try {
    const results = await evaluateRun({
      config,
      seed: job.seed,
      out: dir,
      backend: ctx.backend,
      splits: await ctx.splits(),
      teacher,
      students: new Map([[job.model, model]]),
      methods,
      transferSources: source && transferModel ? [{ name: source.name, method: source.method.name, model: transferModel }] : [],
      ...(job.transferFrom ? { transferFrom: job.transferFrom } : {}),
      curves: curvesFromLog(dir),
      container,
      pluginModules: [...ctx.pluginModules],
      quiet: ctx.quiet,
      log: ctx.log,
      progressStream: ctx.progressStream,
      progressTty: ctx.progressTty,
      progressSink: ctx.progressSink,
    });
    writeJsonAtomic(evaluationPath(dir, job.model), withModelCard(results, job, ctx, student ? student.method.name : config.teacher?.path ? undefined : teacherMethod(config).name, model.layersModel.countParams()));
    return true;
  } finally {
    unsubscribe();
    model.dispose();
    transferModel?.dispose();
    teacher?.dispose();
  }
}

/**
 * What the leaderboard's model card needs beside the evaluation: the method's registered
 * description (`method`: its registered name), the model's weight count and the wall time of the job that trained it (from that
 * job's done marker; a loaded teacher has none).
 */
function withModelCard<R extends { readonly models: Readonly<Record<string, object>> }>(results: R, job: EvaluateJob, ctx: JobContext, method: string | undefined, parameters: number): R {
  const marker = markerPath(ctx.runDir, trainJobId(job.seed, job.model));
  let trainingSeconds: number | undefined;
  if (existsSync(marker)) {
    const durationMs = (JSON.parse(readFileSync(marker, 'utf8')) as { durationMs?: unknown }).durationMs;
    if (typeof durationMs === 'number' && durationMs >= 0) trainingSeconds = durationMs / 1000;
  }
  // A loaded teacher (no method) has no description.
  const described = method === undefined ? undefined : getPlugin(ctx.container, TOKENS.Method, method).description;
  const model = {
    ...results.models[job.model],
    ...(described ? { methodDescription: described } : {}),
    parameters,
    ...(trainingSeconds !== undefined ? { trainingSeconds } : {}),
  };
  return { ...results, models: { ...results.models, [job.model]: model } };
}

/** Merges the seeds' results (mean ± std) into the run directory and renders the reports. */
export function runReportJob(job: ReportJob, runDir: string): void {
  const paths = job.seeds.map((seed) => join(runDir, `seed-${seed}`, 'results.json'));
  const merged = mergeResults(paths.map((p) => parseResults(JSON.parse(readFileSync(p, 'utf8')), p)), paths);
  writeResults(runDir, merged);
  renderReports(runDir);
}

/** Runs one job; true when it finished (and is marked done), false when a signal stopped it. */
export async function runJob(job: Job, ctx: JobContext): Promise<boolean> {
  const started = performance.now();
  mkdirSync(join(ctx.runDir, 'jobs'), { recursive: true });
  let finished: boolean;
  if (job.kind === 'train') finished = await runTrainJob(job, ctx);
  else if (job.kind === 'evaluate') finished = await runEvaluateJob(job, ctx);
  else if (job.kind === 'results') {
    assembleResults(join(ctx.runDir, job.dir), job.models);
    finished = true;
  } else {
    runReportJob(job, ctx.runDir);
    finished = true;
  }
  if (finished) markDone(ctx.runDir, job, started);
  else writeJsonAtomic(elapsedPath(ctx.runDir, job.id), { id: job.id, elapsedMs: Math.round(earlierSessionsMs(ctx.runDir, job.id) + performance.now() - started) });
  return finished;
}

/** Jobs of `plan` not done yet, in plan order. */
export function pendingJobs(plan: Plan, runDir: string): Job[] {
  return plan.jobs.filter((job) => !isDone(runDir, job.id));
}
