import { readFileSync, existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, checkSchema, oneLineError, type BackendPreference } from '@tempered/core/node';
import { RUN_CONFIG_SCHEMA, runConfigSchema, type EvaluationParams, type PluginParamSchemas, type RawRunConfig } from './config-schema.js';

/** A plugin reference as torchdistill writes it: `name` plus `params`. */
export interface PluginRef {
  readonly name: string;
  readonly params: Record<string, unknown>;
}

export interface AttackRef extends PluginRef {
  /** Name in results (defaults to the plugin name; lets one attack appear twice, e.g. pgd-l2). */
  readonly as: string;
  /** Absent: the attack's declared default mode (resolved by the engine, which asks the attack). */
  readonly mode?: 'untargeted' | 'targeted';
}

export interface MetricRef extends PluginRef {
  /** Key in `results.models.<m>.metrics` (defaults to the plugin name). */
  readonly as: string;
}

export interface StudentConfig {
  /** Model name in results, e.g. "ard". */
  readonly name: string;
  readonly method: PluginRef;
  /** Architecture; defaults to the run's `model`. */
  readonly model?: PluginRef;
  /**
   * Name of an earlier student of this run to distil from instead of the run's teacher (e.g. a
   * `trades` student as the teacher of an `ard` student).
   */
  readonly teacher?: string;
  /**
   * For a method that declares teacher roles (e.g. mtard's robust and clean): role → model name,
   * `teacher` (the run's teacher) or an earlier student of this run.
   */
  readonly teachers?: Readonly<Record<string, string>>;
}

export interface TeacherConfig {
  /** Load a tfjs layers model directory instead of training. */
  readonly path?: string;
  readonly model?: PluginRef;
  /**
   * The method that trains the teacher, with its params (default `standard`); any registered
   * method that needs no teacher itself, e.g. `trades` or `pgd-at` for a robust teacher.
   */
  readonly method: PluginRef;
  readonly epochs: number;
  /** The method's params (`method.params`), kept for configs written before `method` existed. */
  readonly params: Record<string, unknown>;
}

export interface RunConfig {
  readonly name: string;
  readonly seeds: readonly number[];
  readonly backend: BackendPreference;
  readonly plugins: readonly string[];
  readonly dataset: PluginRef;
  readonly model: PluginRef;
  readonly batchSize: number;
  readonly teacher?: TeacherConfig;
  readonly students: readonly StudentConfig[];
  /** The divergence guard's settings, when the file gives them (else the guard's defaults). */
  readonly divergence?: { readonly lossGrowth?: number };
  readonly evaluation: {
    readonly examples: number;
    readonly workers: number;
    readonly attacks: readonly AttackRef[];
    readonly diagnostics: boolean;
    /** The transfer check's source (a student's name), false for none; absent: see {@link transferSourceOf}. */
    readonly transferFrom?: string | false;
    /** Metrics run besides the built-ins. */
    readonly metrics: readonly MetricRef[];
    readonly params: EvaluationParams;
    /** The leaderboard's reference student, when the file names one (absent otherwise, so older runs' recorded configs still merge). */
    readonly leaderboard?: { readonly reference?: string };
  };
}

function pluginRef(value: string | { readonly name: string; readonly params?: Record<string, unknown> }): PluginRef {
  return typeof value === 'string' ? { name: value, params: {} } : { name: value.name, params: value.params ?? {} };
}

/**
 * Parses and validates a run config object; every error names its field. The shape is checked
 * against {@link runConfigSchema} (the schema `tempered schema` prints); what a schema cannot say
 * (unique names, seed or seeds, an earlier student as teacher) is checked here, then defaults fill in.
 */
export function validateConfig(input: unknown, source = 'config'): RunConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError(source, 'expected a mapping with dataset, model, students and evaluation');
  const raw = checkSchema(RUN_CONFIG_SCHEMA, input) as RawRunConfig;

  if (raw.seeds !== undefined && raw.seed !== undefined) throw new ConfigError('seed', 'give either seed or seeds, not both');
  const seeds = raw.seeds ?? [raw.seed ?? 1];

  let teacher: TeacherConfig | undefined;
  if (raw.teacher !== undefined) {
    const t = raw.teacher;
    if (t.path !== undefined && t.method !== undefined) throw new ConfigError('teacher.method', 'give either path (load a teacher) or method (train one), not both');
    const params = t.params ?? {};
    if (t.epochs !== undefined && params.epochs !== undefined) throw new ConfigError('teacher.params.epochs', 'give the epochs once, as teacher.epochs');
    const epochs = t.epochs ?? params.epochs ?? 3;
    if (typeof epochs !== 'number' || !Number.isInteger(epochs) || epochs < 1) throw new ConfigError('teacher.epochs', `expected an integer ≥ 1, got ${JSON.stringify(epochs)}`);
    teacher = { path: t.path, model: t.model === undefined ? undefined : pluginRef(t.model), method: { name: t.method ?? 'standard', params: { ...params, epochs } }, epochs, params };
  }

  const names = new Set<string>();
  const students = raw.students.map((s, i): StudentConfig => {
    const f = `students[${i}]`;
    const studentName = s.name ?? s.method;
    if (names.has(studentName)) throw new ConfigError(`${f}.name`, `"${studentName}" is used twice; model names must be unique`);
    if (studentName === 'teacher') throw new ConfigError(`${f}.name`, '"teacher" is the run\'s teacher; give the student another name');
    if (s.teacher !== undefined && !names.has(s.teacher)) {
      throw new ConfigError(`${f}.teacher`, `expected the name of an earlier student (trained first), got "${s.teacher}"${names.size ? `; earlier: ${[...names].join(', ')}` : ''}`);
    }
    if (s.teacher !== undefined && s.teachers !== undefined) throw new ConfigError(`${f}.teachers`, 'give either teacher (one teacher) or teachers (one per role the method declares), not both');
    for (const [role, source] of Object.entries(s.teachers ?? {})) {
      if (source !== 'teacher' && !names.has(source)) {
        throw new ConfigError(`${f}.teachers.${role}`, `expected "teacher" (the run's) or the name of an earlier student (trained first), got "${source}"${names.size ? `; earlier: ${[...names].join(', ')}` : ''}`);
      }
    }
    names.add(studentName);
    return {
      name: studentName,
      method: { name: s.method, params: s.params ?? {} },
      model: s.model === undefined ? undefined : pluginRef(s.model),
      ...(s.teacher !== undefined ? { teacher: s.teacher } : {}),
      ...(s.teachers !== undefined ? { teachers: { ...s.teachers } } : {}),
    };
  });

  const e = raw.evaluation ?? {};
  const attackNames = new Set<string>();
  const attacks = (e.attacks ?? []).map((a, i): AttackRef => {
    const ref = pluginRef(a);
    const as = (typeof a === 'string' ? undefined : a.as) ?? ref.name;
    if (attackNames.has(as)) throw new ConfigError(`evaluation.attacks[${i}].as`, `"${as}" is used twice; give one of them another "as" name`);
    attackNames.add(as);
    const mode = typeof a === 'string' ? undefined : a.mode;
    return { ...ref, as, ...(mode !== undefined ? { mode } : {}) };
  });
  const metricNames = new Set<string>();
  const metrics = (e.metrics ?? []).map((m, i): MetricRef => {
    const ref = pluginRef(m);
    const as = (typeof m === 'string' ? undefined : m.as) ?? ref.name;
    if (metricNames.has(as)) throw new ConfigError(`evaluation.metrics[${i}].as`, `"${as}" is used twice; give one of them another "as" name`);
    metricNames.add(as);
    return { ...ref, as };
  });
  const reference = e.leaderboard?.reference;
  if (reference !== undefined && !names.has(reference)) {
    throw new ConfigError('evaluation.leaderboard.reference', `expected the name of a student of this run, got "${reference}"; students: ${[...names].join(', ')}`);
  }
  if (typeof e.transferFrom === 'string' && !names.has(e.transferFrom)) {
    throw new ConfigError('evaluation.transferFrom', `expected the name of a student of this run, got "${e.transferFrom}"; students: ${[...names].join(', ')}`);
  }

  return {
    name: raw.name ?? 'run',
    seeds,
    backend: raw.backend ?? 'auto',
    plugins: raw.plugins ?? [],
    dataset: pluginRef(raw.dataset),
    model: pluginRef(raw.model),
    batchSize: raw.batchSize ?? 64,
    teacher,
    students,
    ...(raw.divergence ? { divergence: { ...raw.divergence } } : {}),
    evaluation: {
      examples: e.examples ?? 500,
      workers: e.workers ?? 2,
      attacks,
      diagnostics: e.diagnostics ?? true,
      ...(e.transferFrom !== undefined ? { transferFrom: e.transferFrom } : {}),
      metrics,
      params: e.params ?? {},
      ...(e.leaderboard !== undefined ? { leaderboard: { ...e.leaderboard } } : {}),
    },
  };
}

/** Reads a YAML or JSON config file; errors name the file. */
export function readConfig(path: string): RunConfig {
  if (!existsSync(path)) throw new ConfigError(path, 'config file not found');
  if (statSync(path).isDirectory()) throw new ConfigError(path, 'is a directory; expected a config file (YAML or JSON)');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? oneLineError(error)})`);
  }
  if (text.trim() === '') throw new ConfigError(path, 'config file is empty; expected YAML or JSON with dataset, model, students and evaluation');
  let raw: unknown;
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(path, `not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'} (${detail})`);
  }
  try {
    return validateConfig(raw, path);
  } catch (error) {
    // Name the file as well as the field.
    if (error instanceof ConfigError && error.field !== path) throw new ConfigError(`${path}: ${error.field}`, error.message.slice(error.field.length + 2));
    throw error;
  }
}

/**
 * JSON Schema of the config file, with each registered plugin's params where known (see {@link runConfigSchema});
 * `teacherFree` (the methods that need no teacher) limits what `teacher.method` offers.
 */
export function configJsonSchema(pluginParams: PluginParamSchemas = {}, teacherFree?: readonly string[]): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...(JSON.parse(JSON.stringify(runConfigSchema(pluginParams, teacherFree))) as Record<string, unknown>) };
}
