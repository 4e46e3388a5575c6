import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BACKEND_PREFERENCES, type BackendPreference } from '@tempered/core/node';
import { DEFAULT_DIAGNOSTIC_THRESHOLDS, DIAGNOSTIC_THRESHOLD_DESCRIPTIONS } from '@tempered/reports';

/**
 * The run config file, defined once: this TypeBox schema is what `tempered schema` prints (with
 * each registered plugin's params composed in) and what `validateConfig` checks a file against
 * before it applies the defaults and the cross-field rules (unique names, seed or seeds, ...).
 * Plugin names are plain strings, never an enum: a config's `plugins:` may register others, and
 * preflight checks every name against the registry.
 */
export type PluginParamSchemas = Record<string, Record<string, Record<string, unknown>>>;

const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9-]*$', title: 'a name of letters, digits and dashes' });
const Params = Type.Unsafe<Record<string, unknown>>({ type: 'object', title: 'an object' });
const Mode = Type.Union([Type.Literal('untargeted'), Type.Literal('targeted')], { title: 'untargeted or targeted' });
const Count = (description: string) => Type.Integer({ minimum: 1, description });

/**
 * `evaluation.params`: the engine's finer settings, each typed (they used to be an untyped object
 * spread over the typed fields). Defaults are the engine's (see `EvaluationOptions` in @tempered/evaluation).
 */
export const EvaluationParamsSchema = Type.Object(
  {
    batchSize: Type.Optional(Count('Examples per attack batch (targeted runs have K − 1 rows per example); default 50')),
    examplesPerAttack: Type.Optional(Type.Integer({ minimum: 0, description: "Adversarial examples kept per attack for the report's grids; default 4" })),
    gradientExamples: Type.Optional(Count('Gradient histograms measure the first this-many examples; default min(N, 200)')),
    diagnostics: Type.Optional(
      Type.Object(
        {
          sweep: Type.Optional(
            Type.Union([
              Type.Literal(false),
              Type.Object(
                {
                  attack: Type.Optional(Type.String({ description: 'Registered attack to sweep; default the first configured untargeted, bounded, white-box iterative attack' })),
                  params: Type.Optional(Type.Unsafe<Record<string, unknown>>({ ...Params, description: "The swept attack's params (ε is set per point)" })),
                  epsilons: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0 }), { description: 'Fractions of the input range' })),
                  examples: Type.Optional(Count('Examples swept; default min(N, 50)')),
                },
                { additionalProperties: false },
              ),
            ], { description: 'The ε sweep (robust accuracy should fall to 0 as ε grows); false skips it' }),
          ),
          marginAttack: Type.Optional(
            Type.Union([
              Type.Literal('auto'),
              Type.Literal(false),
              Type.Object(
                {
                  name: Type.String({ ...Name, description: 'Registered attack run with a margin loss' }),
                  params: Type.Optional(Type.Unsafe<Record<string, unknown>>({ ...Params, description: "That attack's params" })),
                  mode: Type.Optional(Type.Union([Type.Literal('untargeted'), Type.Literal('targeted')], { title: 'untargeted or targeted', description: "default: the attack's declared default mode" })),
                  key: Type.Optional(Type.String({ ...Name, description: 'Name of its results (default: <attack>-margin)' })),
                },
                { additionalProperties: false },
              ),
            ], { description: "The margin-loss twin of the first attack that declares one ('auto'), another attack, or false for none" }),
          ),
          reruns: Type.Optional(
            Type.Union([
              Type.Literal(false),
              Type.Object(
                {
                  examples: Type.Optional(Count('Examples re-attacked; default min(N, 100)')),
                  restart: Type.Optional(Type.Boolean({ description: 'Re-run with another random start; default true' })),
                  moreSteps: Type.Optional(Type.Boolean({ description: 'Re-run with twice the steps; default true' })),
                },
                { additionalProperties: false },
              ),
            ], { description: 'Re-runs of the white-box attacks (another start, more steps) and the transfer check; false skips them' }),
          ),
          thresholds: Type.Optional(
            Type.Object(
              Object.fromEntries(Object.entries(DEFAULT_DIAGNOSTIC_THRESHOLDS).map(([name, value]) => [name, Type.Optional(Type.Number({ minimum: 0, default: value, description: DIAGNOSTIC_THRESHOLD_DESCRIPTIONS[name as keyof typeof DIAGNOSTIC_THRESHOLD_DESCRIPTIONS] }))])),
              { additionalProperties: false, description: 'Overrides of the checks’ thresholds (docs/reading-a-report.md)' },
            ),
          ),
        },
        { additionalProperties: false, description: 'Settings of the gradient-masking checks' },
      ),
    ),
  },
  { additionalProperties: false, description: "The evaluation engine's finer settings" },
);
export type EvaluationParams = Static<typeof EvaluationParamsSchema>;

/** The `allOf` of "if name (or method) is n, then params follow n's schema", one per known plugin. */
function paramsFor(kind: string, key: 'name' | 'method', known: PluginParamSchemas, teacher = false, only?: readonly string[]): { allOf?: unknown[] } {
  const entries = Object.entries(known[kind] ?? {}).filter(([n]) => only === undefined || only.includes(n));
  if (entries.length === 0) return {};
  return {
    allOf: entries.map(([n, schema]) => ({
      // The teacher's method defaults to standard, so "no method" selects standard's params.
      if: teacher && n === 'standard' ? { properties: { [key]: { enum: [n] } } } : { required: [key], properties: { [key]: { const: n } } },
      then: { properties: { params: schema } },
    })),
  };
}

function pluginRef(kind: string, known: PluginParamSchemas, description: string) {
  return Type.Union(
    [
      Type.String({ ...Name, examples: Object.keys(known[kind] ?? {}) }),
      Type.Object(
        { name: Type.String({ ...Name, description: `The ${kind}'s registered name` }), params: Type.Optional(Type.Unsafe<Record<string, unknown>>({ ...Params, description: `The ${kind}'s params (each has a default)` })) },
        { additionalProperties: false, ...paramsFor(kind, 'name', known) },
      ),
    ],
    { title: 'a plugin name or { name, params }', description },
  );
}

/**
 * JSON Schema (draft-07) of the run config. With `known` (kind → plugin name → params JSON
 * Schema) every plugin's params are described where its name is chosen; without, it is the shape
 * `validateConfig` checks (params are checked per plugin at preflight, naming the field).
 */
export function runConfigSchema(known: PluginParamSchemas = {}, teacherFree?: readonly string[]) {
  const methodNames = Object.keys(known.method ?? {});
  // The teacher is trained from scratch, so only a method that needs no teacher can train it.
  const teacherMethods = teacherFree === undefined ? methodNames : methodNames.filter((n) => teacherFree.includes(n));
  return Type.Object(
    {
      name: Type.Optional(Type.String({ ...Name, description: 'Run name', default: 'run' })),
      seed: Type.Optional(Type.Integer({ minimum: 0, default: 1, description: 'The seed every random stream derives from (weights, shuffles, attacks)' })),
      seeds: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, description: 'Several seeds: results keep each and reports show mean ± std' })),
      backend: Type.Optional(Type.Unsafe<BackendPreference>({ enum: [...BACKEND_PREFERENCES], default: 'auto', description: 'TensorFlow.js backend; auto picks the fastest available' })),
      plugins: Type.Optional(Type.Array(Type.String(), { description: "Modules whose register(container) adds your own plugins: a package folder (./my-method, read through its package.json), a package name, or a built .js file; relative to this file's folder" })),
      dataset: pluginRef('dataset', known, 'a dataset plugin, e.g. mnist'),
      model: pluginRef('model', known, 'a model architecture, e.g. papernot-mnist'),
      batchSize: Type.Optional(Type.Integer({ minimum: 1, default: 64, description: 'Training batch size of the teacher and every student' })),
      teacher: Type.Optional(
        Type.Object(
          {
            path: Type.Optional(Type.String({ description: 'A tfjs layers model directory to load instead of training' })),
            model: Type.Optional(pluginRef('model', known, 'the teacher architecture (default: the run model)')),
            method: Type.Optional(Type.String({ ...Name, examples: teacherMethods, default: 'standard', description: 'Method that trains the teacher (one that needs no teacher), e.g. trades or pgd-at for a robust one' })),
            epochs: Type.Optional(Type.Integer({ minimum: 1, default: 3, description: "Epochs of the teacher's method" })),
            params: Type.Optional(Type.Unsafe<Record<string, unknown>>({ ...Params, description: "The teacher method's params" })),
          },
          { additionalProperties: false, description: 'The run teacher: trained by a method that needs none, or loaded from path', ...paramsFor('method', 'method', known, true, teacherMethods) },
        ),
      ),
      students: Type.Array(
        Type.Object(
          {
            name: Type.Optional(Type.String({ ...Name, description: 'Model name in results (default: the method)' })),
            method: Type.String({ ...Name, examples: methodNames, description: 'a training method, e.g. ard' }),
            params: Type.Optional(Type.Unsafe<Record<string, unknown>>({ ...Params, description: "The method's params (each has a default)" })),
            model: Type.Optional(pluginRef('model', known, 'the student architecture (default: the run model)')),
            teacher: Type.Optional(Type.String({ ...Name, description: 'Name of an earlier student to distil from instead of the run teacher' })),
            teachers: Type.Optional(
              Type.Record(Type.String({ ...Name }), Type.String({ ...Name, description: "The role's teacher: teacher (the run's) or the name of an earlier student" }), {
                description:
                  "For a method that distils from several teachers (it declares their roles, e.g. mtard: robust and clean): role → teacher, each 'teacher' (the run's) or the name of an earlier student trained without a teacher; every declared role, no other",
              }),
            ),
          },
          { additionalProperties: false, ...paramsFor('method', 'method', known) },
        ),
        { minItems: 1, description: 'a non-empty list of { name, method, params }' },
      ),
      divergence: Type.Optional(
        Type.Object(
          {
            lossGrowth: Type.Optional(
              Type.Number({ exclusiveMinimum: 1, default: 1000, description: "Stop training when a batch's loss exceeds this many times the first epoch's mean loss (a non-finite loss or weight always stops it)" }),
            ),
          },
          { additionalProperties: false, description: 'The divergence guard: stops a run whose loss blows up' },
        ),
      ),
      evaluation: Type.Optional(
        Type.Object(
          {
            examples: Type.Optional(Type.Integer({ minimum: 1, default: 500, description: 'The first N test examples, in order' })),
            workers: Type.Optional(Type.Integer({ minimum: 0, default: 2, description: 'worker_threads for attacks (0: in-process)' })),
            attacks: Type.Optional(
              Type.Array(
                Type.Union(
                  [
                    Type.String({ ...Name, examples: Object.keys(known.attack ?? {}) }),
                    Type.Object(
                      {
                        name: Type.String({ ...Name, description: "The attack's registered name" }),
                        params: Type.Optional(Type.Unsafe<Record<string, unknown>>({ ...Params, description: "The attack's params (each has a default)" })),
                        mode: Type.Optional(Type.Union([Type.Literal('untargeted'), Type.Literal('targeted')], { title: 'untargeted or targeted', description: "default: the attack's declared default mode (untargeted unless the attack says otherwise, e.g. jsma)" })),
                        as: Type.Optional(Type.String({ ...Name, description: 'Name in results (default: the attack name)' })),
                      },
                      { additionalProperties: false, ...paramsFor('attack', 'name', known) },
                    ),
                  ],
                  { title: 'an attack name or { name, params, mode, as }' },
                ),
                { description: 'The attacks every model is evaluated under, in order: names, or { name, params, mode, as }' },
              ),
            ),
            diagnostics: Type.Optional(Type.Boolean({ default: true, description: 'Gradient-masking checks on every model (ε sweep, re-runs with another start and more steps, transfer, margin-loss twin); false skips them' })),
            transferFrom: Type.Optional(
              Type.Union([Name, Type.Literal(false)], {
                description:
                  'The student whose adversarials the transfer check replays on the others (false: none). Default: the first student whose method declares it trains without a teacher and without adversarial examples (e.g. standard).',
              }),
            ),
            metrics: Type.Optional(
              Type.Array(
                Type.Union([
                  Type.String({ ...Name, examples: Object.keys(known.metric ?? {}) }),
                  Type.Object({ name: Type.String({ ...Name, description: "The metric's registered name" }), params: Type.Optional(Type.Unsafe<Record<string, unknown>>({ ...Params, description: "The metric's params (each has a default)" })), as: Type.Optional(Type.String({ ...Name, description: 'Key in results (default: the metric name)' })) }, { additionalProperties: false, ...paramsFor('metric', 'name', known) }),
                ], { title: 'a metric name or { name, params, as }' }),
                { description: 'Registered metrics to run on every model besides the built-in ones; each value lands in results.models.<m>.metrics.<as>' },
              ),
            ),
            params: Type.Optional(EvaluationParamsSchema),
            leaderboard: Type.Optional(
              Type.Object(
                {
                  reference: Type.Optional(Type.String({ ...Name, description: 'Name of the student every other method is compared with in leaderboard.md (paired difference, interval and Holm-adjusted p); none: no comparison' })),
                },
                { additionalProperties: false, description: 'The leaderboard (leaderboard.md, leaderboard.html) written beside the report' },
              ),
            ),
          },
          { additionalProperties: false, description: 'How the trained models are evaluated: examples, attacks, diagnostics' },
        ),
      ),
    },
    { additionalProperties: false, title: 'Tempered run config' },
  );
}

/** The config as written in the file, before defaults. */
export type RawRunConfig = Static<ReturnType<typeof runConfigSchema>>;
/** The shape `validateConfig` checks (built once: Ajv compiles per schema object). */
export const RUN_CONFIG_SCHEMA: TSchema = runConfigSchema();
