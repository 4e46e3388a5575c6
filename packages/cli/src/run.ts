import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import {
  CheckpointListener,
  ConfigError,
  JsonlLogger,
  LayersModelAdapter,
  LayersStudent,
  LayersTeacher,
  ModelError,
  asTeacher,
  OutputExistsError,
  ProgressListener,
  TOKENS,
  Trainer,
  assertCompatible,
  createPlugin,
  deriveSeed,
  hasCheckpoint,
  loadCheckpoint,
  loadLayersModel,
  removeStaleTemporaries,
  saveLayersModel,
  selectBackend,
  writeJsonAtomic,
  type BackendInfo,
  type DatasetSplits,
  type DistillationMethod,
  type ModelArchitecture,
  type Student,
  type Teacher,
  type DatasetSource,
} from '@tempered/core';
import type { TeacherInfo } from '@tempered/reports';
import type { RunConfig, PluginRef } from './config.js';
import { checkPluginRef, registerBuiltins, registerUserPlugins, BUILTIN_MODULES } from './plugins.js';
import { evaluateRun, type TrainingCurve } from './evaluate.js';

export interface RunOptions {
  readonly out: string;
  readonly resume: boolean;
  readonly force: boolean;
  readonly quiet: boolean;
  readonly backend?: RunConfig['backend'];
  readonly seed?: number;
  /** Directory relative plugin paths resolve against (the config file's directory). */
  readonly baseDir: string;
  readonly log: (line: string) => void;
}

/** Progress of a run, persisted so `--resume` skips finished work. */
export interface RunState {
  readonly version: 1;
  readonly config: RunConfig;
  trained: string[];
  evaluated: boolean;
}

const TEACHER = 'teacher';

function statePath(out: string): string {
  return join(out, 'run-state.json');
}

/** Refuses to overwrite a previous run unless resuming or forced; nothing is deleted before checks pass. */
export function checkOutputDir(out: string, resume: boolean, force: boolean): RunState | undefined {
  if (!existsSync(out)) return undefined;
  const entries = readdirSync(out);
  if (entries.length === 0) return undefined;
  const path = statePath(out);
  if (resume) {
    if (!existsSync(path)) throw new OutputExistsError(`${out}: nothing to resume (no run-state.json); run without --resume into an empty directory`);
    return JSON.parse(readFileSync(path, 'utf8')) as RunState;
  }
  if (!force) {
    const what = entries.includes('results.json') ? 'holds a finished run (results.json)' : 'is not empty';
    throw new OutputExistsError(`${out}: ${what}; pass --resume to continue it or --force to overwrite it`);
  }
  return undefined;
}

/** A DI container for one run with every built-in and user plugin registered. */
export async function runContainer(config: RunConfig, baseDir: string): Promise<{ container: DependencyContainer; pluginModules: string[] }> {
  const container = rootContainer.createChildContainer();
  registerBuiltins(container);
  const urls = await registerUserPlugins(container, config.plugins, baseDir);
  return { container, pluginModules: [...BUILTIN_MODULES, ...urls] };
}

/** Checks every plugin name and parameter in the config before any work starts. */
export function preflight(container: DependencyContainer, config: RunConfig): void {
  checkPluginRef(container, 'dataset', 'dataset.name', config.dataset);
  checkPluginRef(container, 'model', 'model.name', config.model);
  if (config.teacher?.model) checkPluginRef(container, 'model', 'teacher.model.name', config.teacher.model);
  if (config.teacher && !config.teacher.path) {
    checkPluginRef(container, 'method', 'teacher.method', config.teacher.method);
    const method = createPlugin(container, TOKENS.Method, config.teacher.method.name, config.teacher.method.params) as DistillationMethod;
    const needs = method.teacher;
    method.dispose();
    if (needs === 'required') {
      throw new ConfigError('teacher.method', `"${config.teacher.method.name}" needs a teacher itself; train the teacher with a method that does not (standard, pgd-at, trades) or distil from a student with students[i].teacher`);
    }
  }
  if (config.teacher?.path && !existsSync(join(config.teacher.path, 'model.json')) && !config.teacher.path.endsWith('.json')) {
    throw new ConfigError('teacher.path', `${config.teacher.path} holds no model.json; expected a TensorFlow.js layers model directory`);
  }
  config.students.forEach((s, i) => {
    checkPluginRef(container, 'method', `students[${i}].method`, s.method);
    if (s.model) checkPluginRef(container, 'model', `students[${i}].model.name`, s.model);
    if (s.teacher) {
      const method = createPlugin(container, TOKENS.Method, s.method.name, s.method.params) as DistillationMethod;
      const uses = method.teacher !== 'none' && (method.usesTeacher?.() ?? true);
      method.dispose();
      if (!uses) throw new ConfigError(`students[${i}].teacher`, `method "${s.method.name}" does not use a teacher with these params; remove the field`);
    }
  });
  config.evaluation.attacks.forEach((a, i) => checkPluginRef(container, 'attack', `evaluation.attacks[${i}].name`, a));
}

/** How the run's teacher is made: loaded from `teacher.path`, or trained with `teacher.method`. */
function runTeacherInfo(container: DependencyContainer, config: RunConfig): TeacherInfo {
  if (config.teacher?.path) return { name: TEACHER, source: 'loaded', path: config.teacher.path };
  const ref = config.teacher?.method ?? { name: 'standard', params: { epochs: 3 } };
  const method = createPlugin(container, TOKENS.Method, ref.name, ref.params) as DistillationMethod;
  const methodParams = method.params();
  method.dispose();
  return { name: TEACHER, source: 'trained', method: ref.name, methodParams, model: (config.teacher?.model ?? config.model).name };
}

function buildModel(container: DependencyContainer, ref: PluginRef, name: string, splits: DatasetSplits, seed: number): Student {
  const arch = createPlugin(container, TOKENS.Model, ref.name, ref.params) as ModelArchitecture;
  return arch.build({
    name,
    inputShape: splits.train.inputShape,
    numClasses: splits.train.numClasses,
    seed: deriveSeed(seed, 'init', name),
  });
}

async function trainMethod(args: {
  name: string;
  method: DistillationMethod;
  splits: DatasetSplits;
  config: RunConfig;
  seed: number;
  out: string;
  resume: boolean;
  quiet: boolean;
  curves: Map<string, TrainingCurve>;
}): Promise<{ stopped: boolean; signal?: string }> {
  const { name, method, splits, config, seed, out } = args;
  const checkpointDir = join(out, 'checkpoints', name);
  const position = args.resume && hasCheckpoint(checkpointDir) ? await loadCheckpoint(checkpointDir, method) : undefined;
  const checkpoints = new CheckpointListener({ dir: checkpointDir, seed });
  const trainer = new Trainer().use(
    new ProgressListener({ quiet: args.quiet }),
    new JsonlLogger(join(out, 'metrics.jsonl')),
    checkpoints,
  );
  trainer.on('epoch:end', (e) => {
    const curve = args.curves.get(name) ?? { epochs: [] };
    curve.epochs.push({ phase: e.phase.name, epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, terms: { ...e.terms } });
    args.curves.set(name, curve);
  });
  const outcome = await trainer.run(method, { model: name, train: splits.train, batchSize: config.batchSize, seed, resume: position });
  return { stopped: outcome.stopped, signal: checkpoints.signal };
}

/** Training curves already logged (for resumed runs): read back from metrics.jsonl. */
function curvesFromLog(out: string): Map<string, TrainingCurve> {
  const curves = new Map<string, TrainingCurve>();
  const path = join(out, 'metrics.jsonl');
  if (!existsSync(path)) return curves;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line cut by a crash
    }
    if (record.event !== 'epoch:end') continue;
    const name = record.model as string;
    const curve = curves.get(name) ?? { epochs: [] };
    // A resumed epoch replaces the record of the same epoch logged before the interruption.
    const phase = record.phase as string;
    const epoch = record.epoch as number;
    const at = curve.epochs.findIndex((e) => e.phase === phase && e.epoch === epoch);
    const entry = { phase, epoch, loss: record.loss as number, accuracy: record.accuracy as number | undefined, terms: (record.terms as Record<string, number>) ?? {} };
    if (at >= 0) curve.epochs[at] = entry;
    else curve.epochs.push(entry);
    curves.set(name, curve);
  }
  return curves;
}

export interface SeedRunResult {
  readonly stopped: boolean;
  readonly signal?: string;
  readonly resultsPath?: string;
}

/** Runs one seed of a config into `out`. */
export async function runSeed(
  config: RunConfig,
  seed: number,
  options: RunOptions,
  backend: BackendInfo,
  container: DependencyContainer,
  pluginModules: string[],
  onInputsChecked: () => void = () => {},
): Promise<SeedRunResult> {
  const { out, log } = options;
  const previous = checkOutputDir(out, options.resume, options.force);
  const dataset = createPlugin(container, TOKENS.Dataset, config.dataset.name, config.dataset.params) as DatasetSource;
  const splits = await dataset.load();

  // Teacher: loaded or trained. Load and check compatibility before writing anything.
  const needsTeacher = config.students.some((s) => {
    if (s.teacher) return false; // distils from another student of the run
    const method = createPlugin(container, TOKENS.Method, s.method.name, s.method.params) as DistillationMethod;
    const needs = method.teacher === 'required';
    method.dispose();
    return needs;
  });
  let loadedTeacher: Teacher | undefined;
  if (config.teacher?.path) {
    const layers = await loadLayersModel(config.teacher.path);
    loadedTeacher = new LayersTeacher(layers, { name: TEACHER });
    if (loadedTeacher.numClasses !== splits.train.numClasses || loadedTeacher.inputShape.join('x') !== splits.train.inputShape.join('x')) {
      throw new ModelError(
        `teacher.path: teacher takes [${loadedTeacher.inputShape.join(', ')}] → ${loadedTeacher.numClasses} classes but dataset "${splits.name}" has [${splits.train.inputShape.join(', ')}] → ${splits.train.numClasses} classes`,
      );
    }
  }

  onInputsChecked();
  if (options.force && !options.resume && existsSync(out)) rmSync(out, { recursive: true, force: true });
  // A run killed mid-write (SIGKILL) leaves temporary files next to the complete old ones.
  if (options.resume) removeStaleTemporaries(out, { recursive: true });
  mkdirSync(out, { recursive: true });
  const state: RunState = previous ?? { version: 1, config, trained: [], evaluated: false };
  writeJsonAtomic(statePath(out), state);
  const curves = options.resume ? curvesFromLog(out) : new Map<string, TrainingCurve>();
  const modelsDir = join(out, 'models');
  const trained = new Map<string, Student>();

  let teacher = loadedTeacher;
  if (!teacher && (needsTeacher || config.teacher)) {
    const teacherRef = config.teacher?.model ?? config.model;
    if (state.trained.includes(TEACHER)) {
      teacher = new LayersTeacher(await loadLayersModel(join(modelsDir, TEACHER)), { name: TEACHER });
    } else {
      const teacherMethod = config.teacher?.method ?? { name: 'standard', params: { epochs: 3 } };
      log(`training teacher (${teacherRef.name}, ${teacherMethod.name})`);
      const method = createPlugin(container, TOKENS.Method, teacherMethod.name, teacherMethod.params) as DistillationMethod;
      const student = buildModel(container, teacherRef, TEACHER, splits, seed);
      await method.setup({
        student,
        createModel: (name) => buildModel(container, teacherRef, name, splits, seed),
        train: splits.train,
        batchSize: config.batchSize,
        seed,
        container,
      });
      const outcome = await trainMethod({ name: TEACHER, method, splits, config, seed, out, resume: options.resume, quiet: options.quiet, curves });
      if (outcome.stopped) return { stopped: true, signal: outcome.signal };
      const result = method.result() as unknown as LayersModelAdapter;
      await saveLayersModel(result.layersModel, join(modelsDir, TEACHER));
      state.trained.push(TEACHER);
      writeJsonAtomic(statePath(out), state);
      method.dispose();
      teacher = new LayersTeacher(result.layersModel, { name: TEACHER });
    }
  }

  const methodInfo: Record<string, { method: string; params: Record<string, unknown>; teacher?: TeacherInfo }> = {};
  const teacherInfo = teacher ? runTeacherInfo(container, config) : undefined;
  // Students that distil from another student of the run see it as a frozen teacher sharing its weights.
  const studentTeachers = new Map<string, Teacher>();
  for (const s of config.students) {
    const method = createPlugin(container, TOKENS.Method, s.method.name, s.method.params) as DistillationMethod;
    const arch = s.model ?? config.model;
    const ownTeacher = s.teacher ? asTeacher(trained.get(s.teacher)!) : teacher;
    if (s.teacher) studentTeachers.set(s.name, ownTeacher!);
    const info: TeacherInfo | undefined = s.teacher
      ? { name: s.teacher, source: 'student', method: methodInfo[s.teacher]!.method, methodParams: methodInfo[s.teacher]!.params, model: (config.students.find((t) => t.name === s.teacher)!.model ?? config.model).name }
      : teacherInfo;
    const usesTeacher = method.teacher === 'required' || (method.teacher === 'optional' && (method.usesTeacher?.() ?? true));
    methodInfo[s.name] = { method: s.method.name, params: method.params(), ...(usesTeacher && info ? { teacher: info } : {}) };
    if (state.trained.includes(s.name)) {
      method.dispose();
      const layers = await loadLayersModel(join(modelsDir, s.name));
      trained.set(s.name, new LayersStudent(layers, { name: s.name }));
      continue;
    }
    log(`training ${s.name} (${s.method.name})`);
    const student = buildModel(container, arch, s.name, splits, seed);
    if (ownTeacher && method.teacher !== 'none') assertCompatible(ownTeacher, student);
    await method.setup({
      student,
      teacher: method.teacher === 'none' ? undefined : ownTeacher,
      createModel: (name) => buildModel(container, arch, `${s.name}-${name}`, splits, seed),
      train: splits.train,
      batchSize: config.batchSize,
      seed,
      container,
    });
    const outcome = await trainMethod({ name: s.name, method, splits, config, seed, out, resume: options.resume, quiet: options.quiet, curves });
    if (outcome.stopped) return { stopped: true, signal: outcome.signal };
    const result = method.result();
    await saveLayersModel((result as unknown as LayersModelAdapter).layersModel, join(modelsDir, s.name));
    state.trained.push(s.name);
    writeJsonAtomic(statePath(out), state);
    trained.set(s.name, result);
    // The method's other models (e.g. defensive distillation's own teacher) are released here.
    method.dispose();
  }

  const resultsPath = await evaluateRun({
    config,
    seed,
    out,
    backend,
    splits,
    teacher,
    studentTeachers,
    students: trained,
    methods: methodInfo,
    curves,
    container,
    pluginModules,
    quiet: options.quiet,
    log,
  });
  state.evaluated = true;
  writeJsonAtomic(statePath(out), state);
  for (const model of trained.values()) model.dispose();
  teacher?.dispose();
  return { stopped: false, resultsPath };
}

