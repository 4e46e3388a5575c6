import { readFileSync, existsSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BACKEND_PREFERENCES, ConfigError, type BackendPreference } from '@tempered/core/node';

/** A plugin reference as torchdistill writes it: `name` plus `params`. */
export interface PluginRef {
  readonly name: string;
  readonly params: Record<string, unknown>;
}

export interface AttackRef extends PluginRef {
  /** Name in results (defaults to the plugin name; lets one attack appear twice, e.g. pgd-l2). */
  readonly as: string;
  readonly mode: 'untargeted' | 'targeted';
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
  readonly evaluation: {
    readonly examples: number;
    readonly workers: number;
    readonly attacks: readonly AttackRef[];
    readonly diagnostics: boolean;
    readonly params: Record<string, unknown>;
  };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function only(field: string, value: Json, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigError(field ? `${field}.${key}` : key, `unknown field; expected one of ${allowed.join(', ')}`);
  }
}

function integer(field: string, value: unknown, min: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(field, `expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function name(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z0-9][a-z0-9-]*$/i.test(value)) {
    throw new ConfigError(field, `expected a name of letters, digits and dashes, got ${JSON.stringify(value)}`);
  }
  return value;
}

function pluginRef(field: string, value: unknown): PluginRef {
  if (typeof value === 'string') return { name: name(field, value), params: {} };
  if (!isObject(value)) throw new ConfigError(field, `expected a plugin name or { name, params }, got ${JSON.stringify(value)}`);
  only(field, value, ['name', 'params']);
  if (value.params !== undefined && !isObject(value.params)) throw new ConfigError(`${field}.params`, 'expected an object');
  return { name: name(`${field}.name`, value.name), params: (value.params as Json | undefined) ?? {} };
}

/** Parses and validates a run config object; every error names its field. */
export function validateConfig(raw: unknown, source = 'config'): RunConfig {
  if (!isObject(raw)) throw new ConfigError(source, 'expected a mapping with dataset, model, students and evaluation');
  only('', raw, ['name', 'seed', 'seeds', 'backend', 'plugins', 'dataset', 'model', 'batchSize', 'teacher', 'students', 'evaluation']);

  let seeds: number[];
  if (raw.seeds !== undefined) {
    if (!Array.isArray(raw.seeds) || raw.seeds.length === 0) throw new ConfigError('seeds', 'expected a non-empty list of integers');
    seeds = raw.seeds.map((s, i) => integer(`seeds[${i}]`, s, 0));
    if (raw.seed !== undefined) throw new ConfigError('seed', 'give either seed or seeds, not both');
  } else {
    seeds = [integer('seed', raw.seed, 0, 1)];
  }
  const backend = (raw.backend ?? 'auto') as BackendPreference;
  if (!BACKEND_PREFERENCES.includes(backend)) {
    throw new ConfigError('backend', `expected one of ${BACKEND_PREFERENCES.join(', ')}, got ${JSON.stringify(raw.backend)}`);
  }
  const plugins = raw.plugins ?? [];
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string')) {
    throw new ConfigError('plugins', 'expected a list of module names or paths');
  }
  if (raw.dataset === undefined) throw new ConfigError('dataset', 'missing; expected a dataset plugin, e.g. mnist');
  if (raw.model === undefined) throw new ConfigError('model', 'missing; expected a model architecture, e.g. papernot-mnist');

  let teacher: TeacherConfig | undefined;
  if (raw.teacher !== undefined) {
    const t = raw.teacher;
    if (!isObject(t)) throw new ConfigError('teacher', 'expected { path } or { method, params, model, epochs }');
    only('teacher', t, ['path', 'model', 'method', 'epochs', 'params']);
    if (t.path !== undefined && typeof t.path !== 'string') throw new ConfigError('teacher.path', 'expected a directory holding model.json');
    if (t.path !== undefined && t.method !== undefined) throw new ConfigError('teacher.method', 'give either path (load a teacher) or method (train one), not both');
    if (t.params !== undefined && !isObject(t.params)) throw new ConfigError('teacher.params', 'expected an object');
    const params = (t.params as Json | undefined) ?? {};
    if (t.epochs !== undefined && params.epochs !== undefined) throw new ConfigError('teacher.params.epochs', 'give the epochs once, as teacher.epochs');
    const epochs = integer('teacher.epochs', t.epochs ?? params.epochs, 1, 3);
    teacher = {
      path: t.path as string | undefined,
      model: t.model === undefined ? undefined : pluginRef('teacher.model', t.model),
      method: { name: name('teacher.method', t.method ?? 'standard'), params: { ...params, epochs } },
      epochs,
      params,
    };
  }

  if (!Array.isArray(raw.students) || raw.students.length === 0) {
    throw new ConfigError('students', 'expected a non-empty list of { name, method, params }');
  }
  const names = new Set<string>();
  const students = raw.students.map((s, i): StudentConfig => {
    const f = `students[${i}]`;
    if (!isObject(s)) throw new ConfigError(f, 'expected { name, method, params }');
    only(f, s, ['name', 'method', 'params', 'model', 'teacher']);
    const studentName = name(`${f}.name`, s.name ?? s.method);
    if (names.has(studentName)) throw new ConfigError(`${f}.name`, `"${studentName}" is used twice; model names must be unique`);
    if (studentName === 'teacher') throw new ConfigError(`${f}.name`, '"teacher" is the run\'s teacher; give the student another name');
    let teacherName: string | undefined;
    if (s.teacher !== undefined) {
      teacherName = name(`${f}.teacher`, s.teacher);
      if (!names.has(teacherName)) {
        throw new ConfigError(`${f}.teacher`, `expected the name of an earlier student (trained first), got "${teacherName}"${names.size ? `; earlier: ${[...names].join(', ')}` : ''}`);
      }
    }
    names.add(studentName);
    if (s.params !== undefined && !isObject(s.params)) throw new ConfigError(`${f}.params`, 'expected an object');
    return {
      name: studentName,
      method: { name: name(`${f}.method`, s.method), params: (s.params as Json | undefined) ?? {} },
      model: s.model === undefined ? undefined : pluginRef(`${f}.model`, s.model),
      ...(teacherName ? { teacher: teacherName } : {}),
    };
  });

  const e = raw.evaluation ?? {};
  if (!isObject(e)) throw new ConfigError('evaluation', 'expected { examples, attacks }');
  only('evaluation', e, ['examples', 'workers', 'attacks', 'diagnostics', 'params']);
  const attacksRaw = e.attacks ?? [];
  if (!Array.isArray(attacksRaw)) throw new ConfigError('evaluation.attacks', 'expected a list of attacks');
  const attackNames = new Set<string>();
  const attacks = attacksRaw.map((a, i): AttackRef => {
    const f = `evaluation.attacks[${i}]`;
    const base = typeof a === 'string' ? { name: a } : a;
    if (!isObject(base)) throw new ConfigError(f, 'expected an attack name or { name, params, mode, as }');
    only(f, base, ['name', 'params', 'mode', 'as']);
    const ref = pluginRef(f, { name: base.name, params: base.params });
    const as = name(`${f}.as`, base.as ?? ref.name);
    if (attackNames.has(as)) throw new ConfigError(`${f}.as`, `"${as}" is used twice; give one of them another "as" name`);
    attackNames.add(as);
    const mode = base.mode ?? (ref.name === 'jsma' ? 'targeted' : 'untargeted');
    if (mode !== 'untargeted' && mode !== 'targeted') throw new ConfigError(`${f}.mode`, `expected untargeted or targeted, got ${JSON.stringify(mode)}`);
    return { ...ref, as, mode };
  });
  if (e.params !== undefined && !isObject(e.params)) throw new ConfigError('evaluation.params', 'expected an object');
  if (e.diagnostics !== undefined && typeof e.diagnostics !== 'boolean') throw new ConfigError('evaluation.diagnostics', 'expected true or false');

  return {
    name: raw.name === undefined ? 'run' : name('name', raw.name),
    seeds,
    backend,
    plugins: plugins as string[],
    dataset: pluginRef('dataset', raw.dataset),
    model: pluginRef('model', raw.model),
    batchSize: integer('batchSize', raw.batchSize, 1, 64),
    teacher,
    students,
    evaluation: {
      examples: integer('evaluation.examples', e.examples, 1, 500),
      workers: integer('evaluation.workers', e.workers, 0, 2),
      attacks,
      diagnostics: (e.diagnostics as boolean | undefined) ?? true,
      params: (e.params as Json | undefined) ?? {},
    },
  };
}

/** Reads a YAML or JSON config file; errors name the file. */
export function readConfig(path: string): RunConfig {
  if (!existsSync(path)) throw new ConfigError(path, 'config file not found');
  const text = readFileSync(path, 'utf8');
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

/** JSON Schema of the config file, with each registered plugin's params where known. */
export function configJsonSchema(pluginParams: Record<string, Record<string, Record<string, unknown>>> = {}): Record<string, unknown> {
  const ref = (kind: string) => ({
    oneOf: [
      // Known names are suggestions, not an enum: a config's `plugins:` may register others.
      { type: 'string', examples: Object.keys(pluginParams[kind] ?? {}) },
      {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string' }, params: { type: 'object' } },
        additionalProperties: false,
        allOf: Object.entries(pluginParams[kind] ?? {}).map(([n, schema]) => ({
          if: { properties: { name: { const: n } } },
          then: { properties: { params: schema } },
        })),
      },
    ],
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Tempered run config',
    type: 'object',
    additionalProperties: false,
    required: ['dataset', 'model', 'students'],
    properties: {
      name: { type: 'string', description: 'Run name' },
      seed: { type: 'integer', minimum: 0, default: 1 },
      seeds: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, description: 'Several seeds: results keep each and reports show mean ± std' },
      backend: { enum: [...BACKEND_PREFERENCES], default: 'auto' },
      plugins: { type: 'array', items: { type: 'string' }, description: 'Modules whose register(container) adds your own plugins' },
      dataset: ref('dataset'),
      model: ref('model'),
      batchSize: { type: 'integer', minimum: 1, default: 64 },
      teacher: {
        type: 'object',
        additionalProperties: false,
        properties: {
          path: { type: 'string', description: 'A tfjs layers model directory to load instead of training' },
          model: ref('model'),
          method: { type: 'string', examples: Object.keys(pluginParams.method ?? {}), default: 'standard', description: 'Method that trains the teacher, e.g. trades or pgd-at for a robust one' },
          epochs: { type: 'integer', minimum: 1, default: 3 },
          params: { type: 'object', description: "The teacher method's params" },
        },
        allOf: Object.entries(pluginParams.method ?? {}).map(([n, schema]) => ({
          if: n === 'standard' ? { properties: { method: { enum: [n] } } } : { required: ['method'], properties: { method: { const: n } } },
          then: { properties: { params: schema } },
        })),
      },
      students: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['method'],
          additionalProperties: false,
          properties: {
            name: { type: 'string' },
            method: { type: 'string', examples: Object.keys(pluginParams.method ?? {}) },
            params: { type: 'object' },
            model: ref('model'),
            teacher: { type: 'string', description: 'Name of an earlier student to distil from instead of the run teacher' },
          },
          allOf: Object.entries(pluginParams.method ?? {}).map(([n, schema]) => ({
            if: { properties: { method: { const: n } } },
            then: { properties: { params: schema } },
          })),
        },
      },
      evaluation: {
        type: 'object',
        additionalProperties: false,
        properties: {
          examples: { type: 'integer', minimum: 1, default: 500, description: 'The first N test examples, in order' },
          workers: { type: 'integer', minimum: 0, default: 2, description: 'worker_threads for attacks (0: in-process)' },
          diagnostics: { type: 'boolean', default: true },
          params: { type: 'object' },
          attacks: {
            type: 'array',
            items: {
              oneOf: [
                { type: 'string' },
                {
                  type: 'object',
                  required: ['name'],
                  additionalProperties: false,
                  properties: { name: { type: 'string' }, as: { type: 'string' }, mode: { enum: ['untargeted', 'targeted'] }, params: { type: 'object' } },
                },
              ],
            },
          },
        },
      },
    },
  };
}
