import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import {
  ConfigError,
  OutputExistsError,
  TOKENS,
  createPlugin,
  deriveSeed,
  oneLineError,
  type DatasetSplits,
  type TrainingMethod,
  type ModelArchitecture,
  type Student,
} from '@tempered/core/node';
import type { RunConfig, PluginRef } from './config.js';
import { foreignFiles, isDirectory } from './run-layout.js';
import { checkPluginRef, registerBuiltins, registerUserPlugins, BUILTIN_MODULES } from './plugins.js';
import type { TrainingCurves, TrainingEpoch } from '@tempered/reports/node';

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

/**
 * The run directory's record of what it is: the effective config and the plan's job ids. Which
 * jobs are done lives in jobs/<id>.done, written by whichever process ran the job.
 */
export interface RunState {
  readonly version: 2;
  readonly config: RunConfig;
  readonly jobs: readonly string[];
}

export function statePath(out: string): string {
  return join(out, 'run-state.json');
}

/** The run directory's state, if any; an older layout or a damaged file is refused naming it. */
export function readRunState(out: string): RunState | undefined {
  const path = statePath(out);
  if (!existsSync(path)) return undefined;
  let state: { version?: number; config?: unknown; jobs?: unknown };
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as typeof state;
  } catch (error) {
    throw new OutputExistsError(`${path}: not valid JSON (${oneLineError(error)}); the file is damaged: rerun with --force to start over`);
  }
  if (typeof state !== 'object' || state === null) throw new OutputExistsError(`${path}: expected an object with version, config and jobs; the file is damaged: rerun with --force to start over`);
  if (state.version !== 2) throw new OutputExistsError(`${path}: written by an older Tempered (run-state version ${state.version}); rerun with --force`);
  if (typeof state.config !== 'object' || state.config === null || !Array.isArray(state.jobs)) {
    throw new OutputExistsError(`${path}: ${typeof state.config !== 'object' || state.config === null ? 'config' : 'jobs'} is missing; the file is damaged: rerun with --force to start over`);
  }
  return state as RunState;
}

/**
 * Refuses to overwrite a previous run unless resuming or forced; nothing is deleted before checks
 * pass. `--resume` on a directory that does not exist is refused (a mistyped --out would
 * otherwise start a fresh run silently); `--force` only ever replaces a Tempered run, and
 * refuses a directory holding files Tempered did not write unless it is a run (run-state.json),
 * whose foreign files it then keeps.
 */
export function checkOutputDir(out: string, resume: boolean, force: boolean): RunState | undefined {
  const directory = isDirectory(out);
  if (directory === false) throw new OutputExistsError(`${out}: --out is a file; expected a run directory (or a path that does not exist yet)`);
  if (directory === undefined) {
    if (resume) throw new OutputExistsError(`${out}: does not exist, so there is nothing to resume; check --out, or run without --resume to start`);
    return undefined;
  }
  // A lock alone is what a run killed before its first write leaves: the directory is still empty.
  const entries = readdirSync(out).filter((entry) => entry !== 'run.lock');
  if (entries.length === 0) return undefined;
  const path = statePath(out);
  if (resume) {
    if (!existsSync(path)) throw new OutputExistsError(`${out}: nothing to resume (no run-state.json); run without --resume into an empty directory`);
    return readRunState(out);
  }
  if (!force) {
    const what = entries.includes('results.json') ? 'holds a finished run (results.json)' : 'is not empty';
    throw new OutputExistsError(`${out}: ${what}; pass --resume to continue it or --force to overwrite it`);
  }
  if (!existsSync(path)) {
    const foreign = foreignFiles(out);
    if (foreign.length > 0) {
      throw new OutputExistsError(`${out}: is not a Tempered run (no run-state.json) and holds ${foreign[0]}${foreign.length > 1 ? ` and ${foreign.length - 1} other file(s)` : ''} Tempered did not write; --force only replaces a Tempered run: choose another --out`);
    }
  }
  return undefined;
}

/** A DI container for one run with every built-in and user plugin registered. */
export async function runContainer(config: RunConfig, baseDir: string): Promise<{ container: DependencyContainer; pluginModules: string[] }> {
  const container = rootContainer.createChildContainer();
  registerBuiltins(container);
  const urls = await registerUserPlugins(container, config.plugins, { baseDir, projectRoot: process.cwd() });
  return { container, pluginModules: [...BUILTIN_MODULES, ...urls] };
}

/** Checks every plugin name and parameter in the config before any work starts. */
export function preflight(container: DependencyContainer, config: RunConfig): void {
  checkPluginRef(container, 'dataset', 'dataset.name', config.dataset);
  checkPluginRef(container, 'model', 'model.name', config.model);
  if (config.teacher?.model) checkPluginRef(container, 'model', 'teacher.model.name', config.teacher.model);
  if (config.teacher && !config.teacher.path) {
    checkPluginRef(container, 'method', 'teacher.method', config.teacher.method);
    const method = createPlugin(container, TOKENS.Method, config.teacher.method.name, config.teacher.method.params) as TrainingMethod;
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
    checkTeacherRoles(container, config, i);
    if (s.teacher) {
      const method = createPlugin(container, TOKENS.Method, s.method.name, s.method.params) as TrainingMethod;
      const uses = method.teacher !== 'none' && (method.usesTeacher?.() ?? true);
      method.dispose();
      if (!uses) throw new ConfigError(`students[${i}].teacher`, `method "${s.method.name}" does not use a teacher with these params; remove the field`);
    }
  });
  config.evaluation.attacks.forEach((a, i) => checkPluginRef(container, 'attack', `evaluation.attacks[${i}].name`, a));
  // Before any training: a metric that is not registered would otherwise fail only at evaluation.
  config.evaluation.metrics.forEach((m, i) => checkPluginRef(container, 'metric', `evaluation.metrics[${i}].name`, m));
}

/** The teacher roles a method declares (primary first), or undefined for a one-teacher method. */
export function teacherRolesOf(container: DependencyContainer, ref: PluginRef): readonly string[] | undefined {
  const method = createPlugin(container, TOKENS.Method, ref.name, ref.params) as TrainingMethod;
  const roles = method.teacherRoles ? Object.keys(method.teacherRoles) : undefined;
  method.dispose();
  return roles;
}

/**
 * Checks students[i].teachers against the roles its method declares: every role named, no other,
 * each the run's teacher or an earlier student trained without a teacher; a one-teacher method
 * takes `teacher`, not `teachers`.
 */
function checkTeacherRoles(container: DependencyContainer, config: RunConfig, i: number): void {
  const s = config.students[i]!;
  const f = `students[${i}]`;
  const roles = teacherRolesOf(container, s.method);
  if (!roles) {
    if (s.teachers) throw new ConfigError(`${f}.teachers`, `method "${s.method.name}" distils from one teacher (it declares no roles); name it with teacher, or leave it to the run's`);
    return;
  }
  const wanted = roles.map((r) => `${r}: …`).join(', ');
  if (s.teacher !== undefined) throw new ConfigError(`${f}.teacher`, `method "${s.method.name}" distils from several teachers; name each with teachers: { ${wanted} }`);
  const given = s.teachers ?? {};
  for (const role of Object.keys(given)) {
    if (!roles.includes(role)) throw new ConfigError(`${f}.teachers.${role}`, `method "${s.method.name}" has no teacher role "${role}"; its roles: ${roles.join(', ')}`);
  }
  for (const role of roles) {
    const source = given[role];
    if (source === undefined) throw new ConfigError(`${f}.teachers.${role}`, `method "${s.method.name}" needs a ${role} teacher: "teacher" (the run's) or an earlier student; give teachers: { ${wanted} }`);
    const student = config.students.find((other) => other.name === source);
    if (!student) continue;
    const method = createPlugin(container, TOKENS.Method, student.method.name, student.method.params) as TrainingMethod;
    const needs = method.teacher === 'required';
    method.dispose();
    if (needs) throw new ConfigError(`${f}.teachers.${role}`, `"${source}" is trained by "${student.method.name}", which needs a teacher itself; a role's teacher is the run's or a student trained without one (e.g. standard, trades)`);
  }
}

export function buildModel(container: DependencyContainer, ref: PluginRef, name: string, splits: DatasetSplits, seed: number): Student {
  const arch = createPlugin(container, TOKENS.Model, ref.name, ref.params) as ModelArchitecture;
  return arch.build({
    name,
    inputShape: splits.train.inputShape,
    numClasses: splits.train.numClasses,
    seed: deriveSeed(seed, 'init', name),
  });
}

/**
 * Each model's training curves, read from metrics.jsonl (where resumed runs also find the epochs
 * logged before the interruption), in the results' own type: per phase, one {@link TrainingEpoch}
 * per epoch with the loss terms beside loss and accuracy.
 */
export function curvesFromLog(out: string): Map<string, TrainingCurves> {
  const curves = new Map<string, Record<string, TrainingEpoch[]>>();
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
    const phases = curves.get(record.model as string) ?? {};
    const epochs = (phases[record.phase as string] ??= []);
    const entry: TrainingEpoch = {
      epoch: record.epoch as number,
      loss: record.loss as number,
      ...(record.accuracy !== undefined ? { accuracy: record.accuracy as number } : {}),
      ...(record.accuracyOn === 'clean' || record.accuracyOn === 'adversarial' ? { accuracyOn: record.accuracyOn } : {}),
      ...((record.terms as Record<string, number> | undefined) ?? {}),
      ...(record.learningRate !== undefined ? { learningRate: record.learningRate as number } : {}),
      ...((record.learningRates as number[] | undefined)?.length ? { learningRates: record.learningRates as number[] } : {}),
    };
    // A resumed epoch replaces the record of the same epoch logged before the interruption.
    const at = epochs.findIndex((e) => e.epoch === entry.epoch);
    if (at >= 0) epochs[at] = entry;
    else epochs.push(entry);
    curves.set(record.model as string, phases);
  }
  return curves;
}
