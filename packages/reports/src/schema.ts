import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Norm } from '@tempered/core/pure';

export type { Interval } from './stats.js';

/**
 * The `results.json` format (version {@link RESULTS_SCHEMA_VERSION}), defined once: the TypeBox
 * schemas below are the published JSON Schema ({@link RESULTS_JSON_SCHEMA}, shipped as
 * `results.schema.json`), the runtime check (`parseResults`, `writeResults`) and, through
 * `Static`, the TypeScript types. Reports render from this file alone. Undefined statistics
 * (e.g. a mean distortion when no attack succeeded) are `null`. Every accuracy and success rate
 * has a 95 % Wilson interval (`…Interval`) for its own N. Version 2 replaced the
 * cross-threat-model `worstCaseRobustAccuracy` by `threatModels`.
 */
export const RESULTS_SCHEMA_VERSION = 2 as const;

/** Deeply readonly view of a schema's static type: results are values, never edited in place. */
type Frozen<T> = T extends readonly (infer U)[]
  ? T extends readonly [infer A, infer B] ? readonly [Frozen<A>, Frozen<B>] : readonly Frozen<U>[]
  : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;
type Of<S extends TSchema> = Frozen<Static<S>>;

/** `{ type: [T, 'null'] }`: keeps the schema short and the error "expected number or null". */
function nullable<S extends TSchema & { type: string }>(schema: S) {
  return Type.Unsafe<Static<S> | null>({ ...schema, type: [schema.type, 'null'] });
}
const Num = Type.Number();
const Int = Type.Integer();
const Count = Type.Number({ minimum: 0 });
const NullableNumber = nullable(Type.Number());
const Share = Type.Number({ minimum: 0, maximum: 1 });
// Every rate (accuracy, success rate, agreement, confidence) is a share in [0, 1], or null when undefined.
const NullableShare = nullable(Type.Number({ minimum: 0, maximum: 1 }));
const Str = Type.String();
const Params = Type.Record(Type.String(), Type.Unknown());
const NormSchema = Type.Unsafe<Norm>({ enum: ['linf', 'l2', 'l0'] });
// 95 % Wilson interval [lower, upper], null when undefined (N = 0).
const IntervalSchema = Type.Unsafe<readonly [lower: number, upper: number] | null>({
  type: ['array', 'null'], items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2,
});
const OptInterval = Type.Optional(IntervalSchema);

/** Success and robust accuracy of a minimum-distortion attack (C&W) restricted to a threat model's budget. */
export const BudgetedSuccessSchema = Type.Object({
  norm: NormSchema,
  epsilon: Num,
  successRate: NullableShare,
  successRateInterval: OptInterval,
  robustAccuracy: NullableShare,
  robustAccuracyInterval: OptInterval,
});
export type BudgetedSuccess = Of<typeof BudgetedSuccessSchema>;

/**
 * 'bounded': the attack searches a (norm, ε) ball and belongs to that threat model.
 * 'minimum-distortion': it looks for the smallest perturbation (C&W, ε = ∞; JSMA, up to a share
 * γ of the features): success rate and distortion describe it, it never enters a worst case.
 */
const AttackKindSchema = Type.Union([Type.Literal('bounded'), Type.Literal('minimum-distortion')]);
export type AttackKind = Static<typeof AttackKindSchema>;

/** What an attack declared about itself (core's `AttackTraits`, minus its margin-twin function). */
export const AttackTraitsSchema = Type.Object({
  blackBox: Type.Boolean(), // score-based: reads no gradient (Square)
  singleStep: Type.Boolean(), // one gradient step (FGSM)
  ensemble: Type.Boolean(), // runs other attacks (AutoAttack)
  blackBoxComponents: Type.Array(Str), // ensembles: names in `ran` of the black-box components
});
export type RecordedAttackTraits = Of<typeof AttackTraitsSchema>;

/** Everything measured for one configured attack on one model (see the field comments). */
export const AttackSummarySchema = Type.Object({
  name: Str, // registered attack name (the key in `attacks` may differ, e.g. "pgd-eps0.1")
  params: Params, // the parameters the attack ran with, shorthands resolved (`attack.effectiveParams()`, else `attack.params()`)
  mode: Type.Union([Type.Literal('untargeted'), Type.Literal('targeted')]),
  norm: NormSchema,
  kind: Type.Optional(AttackKindSchema),
  epsilon: NullableNumber, // budget of a bounded attack; null for minimum-distortion attacks
  threatModel: Type.Optional(Str), // key in `threatModels` of a bounded attack
  maxL0: Type.Optional(Num), // JSMA: most input values it may change (γ × features)
  evaluated: Type.Integer({ minimum: 0 }), // the first `evaluated` examples of the test split
  pairs: Type.Integer({ minimum: 0 }), // rows: evaluated untargeted, evaluated × (classes − 1) targeted
  attackable: Type.Optional(Count), // rows of correctly classified examples: the N of successRate
  successRate: NullableShare,
  successRateInterval: OptInterval,
  robustAccuracy: NullableShare, // correct on the clean input and on every adversarial row
  robustAccuracyInterval: OptInterval,
  // Distortion statistics over successful rows; L0 counts changed input values.
  meanL0: NullableNumber,
  medianL0: NullableNumber,
  meanL2: NullableNumber,
  medianL2: NullableNumber,
  meanLinf: NullableNumber,
  medianLinf: NullableNumber,
  rhoAdv: Type.Optional(NullableNumber), // ρ_adv (Papernot et al. 2016), JSMA
  meanIterations: NullableNumber,
  budgets: Type.Optional(Type.Array(BudgetedSuccessSchema)), // minimum-distortion: success within each threat model's budget
  ran: Type.Optional(Type.Array(Str)), // ensembles (AutoAttack): the component attacks that ran, in order
  traits: Type.Optional(AttackTraitsSchema), // what the attack declared about itself (the checks read these, never its name)
});
export type AttackSummary = Of<typeof AttackSummarySchema>;

/** Accuracy of one true class within a threat model (Fair-ARD, Yue et al. 2023, reports the worst). */
export const ClassAccuracySchema = Type.Object({
  label: Int,
  examples: Type.Integer({ minimum: 0 }),
  cleanAccuracy: NullableShare,
  robustAccuracy: NullableShare,
  robustAccuracyInterval: OptInterval,
});
export type ClassAccuracy = Of<typeof ClassAccuracySchema>;

/** A diagnostic re-run (another seed, twice the steps, or transfer) of a threat model's white-box attack. */
export const RerunSchema = Type.Object({
  attack: Str, // key of the configured attack that was re-run (the reference)
  change: Str,
  evaluated: Int,
  robustAccuracy: NullableShare,
  referenceRobustAccuracy: NullableShare,
  newlyBroken: Count, // broken by the re-run, left robust by the reference attacks
  beyondWorstCase: Type.Optional(Count), // broken by the re-run and by no attack of the threat model
});
export type Rerun = Of<typeof RerunSchema>;

/** Results of one (norm, ε) threat model: the per-example worst case over its bounded attacks. */
export const ThreatModelResultSchema = Type.Object({
  norm: NormSchema,
  epsilon: Num,
  attacks: Type.Array(Str), // keys in `attacks`, in run order
  ran: Type.Array(Str), // attacks that actually ran, ensembles expanded ("autoattack/apgd-ce")
  evaluated: Type.Integer({ minimum: 0 }),
  cleanAccuracy: Share,
  cleanAccuracyInterval: OptInterval,
  robustAccuracy: NullableShare, // correct on clean and on every row of every attack of this threat model
  robustAccuracyInterval: OptInterval,
  breakers: Type.Record(Type.String(), Count), // examples each attack broke first; "clean": misclassified
  brokenBy: Type.Optional(Type.Array(nullable(Type.String()))), // per example; kept per seed when merged
  broken: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Integer({ minimum: 0 })))),
  perClass: Type.Array(ClassAccuracySchema),
  worstClass: Type.Union([Type.Object({ label: Int, robustAccuracy: NullableShare }), Type.Null()]),
  reruns: Type.Optional(Type.Record(Type.String(), RerunSchema)),
});
export type ThreatModelResult = Of<typeof ThreatModelResultSchema>;

/** A log10-binned histogram of per-example input-gradient norms (counts are means when seeds were merged). */
export const GradientHistogramSchema = Type.Object({
  // 'probability': ∇ₓ softmax(z)_ŷ at T = 1 (the paper's Figure); 'loss': ∇ₓ CE(softmax(z), y) at T = 1.
  quantity: Type.Union([Type.Literal('probability'), Type.Literal('loss')]),
  norm: Type.Union([Type.Literal('l1'), Type.Literal('l2')]),
  temperature: Num,
  binEdges: Type.Array(Num), // log10 exponents, length counts.length + 1
  counts: Type.Array(Count),
  zeros: Count, // gradients exactly zero (no place on a log axis)
  nonFinite: Type.Optional(Count),
  underflow: Count,
  overflow: Count,
  count: Count,
  mean: NullableNumber,
  median: NullableNumber,
});
export type GradientHistogram = Of<typeof GradientHistogramSchema>;

export const SweepPointSchema = Type.Object({
  epsilon: Num,
  robustAccuracy: NullableShare,
  robustAccuracyInterval: OptInterval,
  successRate: NullableShare,
});
export type SweepPoint = Of<typeof SweepPointSchema>;

/** Robust accuracy of one attack as its budget grows (robust accuracy vs ε chart, masking checks). */
export const EpsilonSweepSchema = Type.Object({
  attack: Str,
  params: Params,
  norm: NormSchema,
  evaluated: Int,
  range: Num, // input range width (max − min): at this L∞ budget every input can become any other
  points: Type.Array(SweepPointSchema),
});
export type EpsilonSweep = Of<typeof EpsilonSweepSchema>;

/** A check's outcome: 'flagged' (fired, severity 'warning'), 'passed', or 'not-run' (message says why). */
export const DiagnosticSchema = Type.Object({
  id: Str,
  status: Type.Optional(Type.Union([Type.Literal('flagged'), Type.Literal('passed'), Type.Literal('not-run')])),
  severity: Type.Union([Type.Literal('warning'), Type.Literal('info')]),
  message: Str,
  evidence: Type.Record(Type.String(), Type.Unsafe<number | string | null>({ type: ['number', 'string', 'null'] })),
});
export type Diagnostic = Of<typeof DiagnosticSchema>;

/** One epoch of a training curve (filled in by the CLI from the trainer's events); other metrics are numbers. */
// A diverged loss is NaN in memory (a number) and null on disk: accepting null lets such a run still write its results.
const TrainingValue = Type.Unsafe<number>({ type: ['number', 'null'] });
const TrainingShare = Type.Unsafe<number>({ type: ['number', 'null'], minimum: 0, maximum: 1 });
// `learningRate` is the rate of the epoch's last step; `learningRates` every step's, in order.
export const TrainingEpochSchema = Type.Object(
  {
    epoch: Int,
    loss: TrainingValue,
    accuracy: Type.Optional(TrainingShare),
    // What `accuracy` was measured on, as the method's step declared it.
    accuracyOn: Type.Optional(Type.Union([Type.Literal('clean'), Type.Literal('adversarial')])),
    learningRates: Type.Optional(Type.Array(Type.Number())),
  },
  { additionalProperties: TrainingValue },
);
export type TrainingEpoch = Of<typeof TrainingEpochSchema> & { readonly [metric: string]: number | string | readonly number[] | undefined };
/** Per-phase training curves, e.g. `{ teacher: [...], student: [...] }`. */
export type TrainingCurves = Readonly<Record<string, readonly TrainingEpoch[]>>;

/** A clean/adversarial pair, pixel values rounded to 1/1000, for the report's image grids. */
export const AdversarialExampleSchema = Type.Object({
  index: Int, // position in the test split
  label: Int,
  target: Type.Optional(Int),
  cleanPrediction: Int,
  adversarialPrediction: Int,
  success: Type.Boolean(),
  shape: Type.Array(Int), // without the batch dimension, e.g. [28, 28, 1]
  clean: Type.Array(Num),
  adversarial: Type.Array(Num),
});
export type AdversarialExample = Of<typeof AdversarialExampleSchema>;

/** Sample standard deviations across seeds, mirroring the numeric fields they describe (`std.attacks.pgd.robustAccuracy`). */
export const ModelSpreadSchema = Type.Object({
  cleanAccuracy: Type.Optional(Num),
  confidence: Type.Optional(Num),
  agreement: Type.Optional(Num),
  attacks: Type.Optional(Type.Record(Type.String(), Params)),
  threatModels: Type.Optional(Type.Record(Type.String(), Params)),
});
export type ModelSpread = Of<typeof ModelSpreadSchema> & { readonly [field: string]: unknown };

/** What a seed merge keeps per seed because it cannot be averaged. */
export const SeedSpecificSchema = Type.Object({
  threatModels: Type.Record(Type.String(), Type.Pick(ThreatModelResultSchema, ['brokenBy', 'broken'])),
  values: Type.Optional(Params), // non-numeric fields that differed between seeds, by path
});
export type SeedSpecific = Of<typeof SeedSpecificSchema>;

/** How a distilled model's teacher was made: 'trained' with `method`, 'loaded' from `path`, or another model ('student'). */
export const TeacherInfoSchema = Type.Object({
  name: Str,
  source: Type.Union([Type.Literal('trained'), Type.Literal('loaded'), Type.Literal('student')]),
  method: Type.Optional(Str),
  methodParams: Type.Optional(Params),
  model: Type.Optional(Str),
  path: Type.Optional(Str),
});
export type TeacherInfo = Of<typeof TeacherInfoSchema>;


// ---------------------------------------------------------------------------------------------
// Teachers as models of the run, and paired comparisons (issue 24). Kept apart from the fields
// above: every field here is optional, so files written before it still parse.
// ---------------------------------------------------------------------------------------------

/** Counts of a paired 2×2 table over the shared examples (first model right/wrong × second). */
export const PairedTableSchema = Type.Object({
  both: Count,
  firstOnly: Count,
  secondOnly: Count,
  neither: Count,
});

/** What a reader asks of a pair, decided from the data: a student and its teacher, a distilled student and a model trained without a teacher, two distilled students. */
const RelationSchema = Type.Union([Type.Literal('student-teacher'), Type.Literal('student-baseline'), Type.Literal('student-student'), Type.Literal('other')]);
const Difference = Type.Number({ minimum: -1, maximum: 1 });
// 95 % paired interval of a difference [lower, upper] in [−1, 1], null when undefined.
const DifferenceIntervalSchema = Type.Unsafe<readonly [lower: number, upper: number] | null>({
  type: ['array', 'null'], items: { type: 'number', minimum: -1, maximum: 1 }, minItems: 2, maxItems: 2,
});
const PValue = Type.Number({ minimum: 0, maximum: 1 });

/** Two models on the same examples, one measure ('clean' or a threat-model key); differences are first − second. */
export const PairedComparisonSchema = Type.Object({
  first: Str, // the student when one of the two is distilled
  second: Str,
  measure: Str, // "clean" or a key of `threatModels` (worst-case robust accuracy)
  relation: RelationSchema,
  evaluated: Type.Integer({ minimum: 0 }),
  firstAccuracy: Share,
  secondAccuracy: Share,
  difference: Difference,
  interval: DifferenceIntervalSchema, // Newcombe (1998) method 10, 95 %
  table: PairedTableSchema,
  pValue: PValue, // exact McNemar, two-sided
  adjustedPValue: PValue, // Holm over every pair and measure of the run
  discordance: Share, // share of examples on which the two disagree
  minimumDetectableDifference: nullable(Type.Number({ minimum: 0, maximum: 1 })), // at α and power below (Connor 1987)
  examplesNeeded: nullable(Type.Integer({ minimum: 0 })), // examples the observed difference needs at α and power
});
export type PairedComparison = Of<typeof PairedComparisonSchema>;

/** One pair and measure over merged seeds: each seed's paired difference and a paired t test over them. */
export const SeedComparisonSchema = Type.Object({
  first: Str,
  second: Str,
  measure: Str,
  relation: RelationSchema,
  seeds: Type.Array(Str), // keys of `perSeed`
  differences: Type.Array(Difference), // per seed, from that seed's per-example pairing
  mean: Difference,
  std: NullableNumber, // sample standard deviation over seeds; null for one seed
  t: NullableNumber, // paired t over seeds; null below two seeds or without spread
  pValue: nullable(PValue),
  adjustedPValue: nullable(PValue), // Holm over the across-seed tests
  perSeedPValues: Type.Array(PValue), // exact McNemar within each seed
  sameExamples: Type.Boolean(), // every seed evaluated the same test examples
});
export type SeedComparison = Of<typeof SeedComparisonSchema>;

export const ComparisonsSchema = Type.Object({
  alpha: Num,
  power: Num,
  pairs: Type.Array(PairedComparisonSchema),
  acrossSeeds: Type.Optional(Type.Array(SeedComparisonSchema)),
});
export type Comparisons = Of<typeof ComparisonsSchema>;

/** Fields of a model's results about teaching (see ModelResultsSchema). */
const TeachingFields = {
  taught: Type.Optional(Type.Array(Str)), // this model is a teacher: the students of the run it taught
};

// ---------------------------------------------------------------------------------------------
// What the leaderboard's model cards need beside the numbers (issue 25). Optional: files written
// before them still parse, and the leaderboard says "not recorded".
// ---------------------------------------------------------------------------------------------

const ModelCardFields = {
  methodDescription: Type.Optional(Str), // the method plugin's one-line description, as registered
  parameters: Type.Optional(Count), // the model's weight count (every weight of the saved layers model)
  // Wall seconds of the job that trained the model (setup, training and saving; a job resumed after
  // a stop counts from its resume). Absent for a loaded model. A mean when seeds were merged.
  trainingSeconds: Type.Optional(Count),
};

/** The machine a run was evaluated on: CPU model, logical cores, OS platform and architecture. */
export const MachineSchema = Type.Object({ cpu: Str, cores: Type.Integer({ minimum: 0 }), platform: Str });
export type Machine = Of<typeof MachineSchema>;

/**
 * The source a run was evaluated from: the git commit of the Tempered checkout, and whether its
 * tracked files differed from that commit. Absent when Tempered ran from an installed package
 * (its `tempered` version then names the source).
 */
export const SourceSchema = Type.Object({ commit: Type.String({ pattern: '^[0-9a-f]{40}$' }), modified: Type.Boolean() });
export type Source = Of<typeof SourceSchema>;

/** What wrote a results file, as the reports print it: `Tempered 0.1.0 (commit 1a2b3c4)`. */
export function writtenBy(results: { tempered: string; source?: Source }): string {
  const { source } = results;
  return `Tempered ${results.tempered}${source ? ` (commit ${source.commit.slice(0, 7)}${source.modified ? ', with uncommitted changes' : ''})` : ''}`;
}

/**
 * The value of a metric plugin run by `evaluation.metrics`: one number, or named numbers (null
 * where undefined, e.g. no example qualified). Anything else is refused when the metric reports it.
 */
export const MetricValueSchema = Type.Union([NullableNumber, Type.Record(Type.String(), NullableNumber)]);
export type MetricValue = Of<typeof MetricValueSchema>;

/** One configured metric plugin's result on one model. */
export const PluginMetricResultSchema = Type.Object({
  name: Str, // registered metric name (the key may differ)
  params: Params, // as configured
  value: MetricValueSchema,
});
export type PluginMetricResult = Of<typeof PluginMetricResultSchema>;

export const ModelResultsSchema = Type.Object({
  method: Str, // training method, e.g. "defensive-distillation", "ard", "pgd-at"
  methodParams: Type.Optional(Params),
  classes: Type.Optional(Type.Integer({ minimum: 1 })), // chance accuracy is 1 / classes
  teacher: Type.Optional(TeacherInfoSchema), // the one teacher, or the primary role's of a several-teacher method (reports read this one)
  teachers: Type.Optional(Type.Record(Str, TeacherInfoSchema)), // a several-teacher method's: role → teacher, primary first (e.g. mtard: robust, clean)
  cleanAccuracy: Share,
  cleanAccuracyInterval: OptInterval,
  confidence: NullableShare, // C(X): mean max softmax (T = 1) on correctly classified clean examples
  agreement: Type.Optional(NullableShare), // teacher/student argmax agreement
  agreementInterval: OptInterval,
  threatModels: Type.Record(Type.String(), ThreatModelResultSchema), // keyed "norm:ε", e.g. "linf:0.3"
  attacks: Type.Record(Type.String(), AttackSummarySchema),
  gradientHistogram: GradientHistogramSchema, // ‖∇ₓ softmax(z)_ŷ‖ at T = 1 (Papernot et al. 2016)
  lossGradientHistogram: GradientHistogramSchema, // ‖∇ₓ CE‖ at T = 1 (zero or non-finite gradient check)
  epsilonSweep: Type.Optional(EpsilonSweepSchema),
  metrics: Type.Optional(Type.Record(Type.String(), PluginMetricResultSchema)), // evaluation.metrics, keyed by `as`
  diagnostics: Type.Array(DiagnosticSchema),
  training: Type.Optional(Type.Record(Type.String(), Type.Array(TrainingEpochSchema))),
  examples: Type.Record(Type.String(), Type.Array(AdversarialExampleSchema)), // the first seed's when merged
  seeds: Type.Optional(Type.Array(Int)), // seeds this entry averages over (mergeResults)
  std: Type.Optional(ModelSpreadSchema), // standard deviations across seeds
  missing: Type.Optional(Type.Record(Type.String(), Type.Array(Int))), // paths null on some seeds → those seeds
  perSeed: Type.Optional(Type.Record(Type.String(), SeedSpecificSchema)),
  ...TeachingFields,
  ...ModelCardFields,
});
export type ModelResults = Of<typeof ModelResultsSchema> & { readonly training?: TrainingCurves; readonly std?: ModelSpread };

/**
 * JSON Schema (draft-07, which Ajv validates by default) of `results.json`. The package ships it
 * as `results.schema.json` (written at build from this constant; a spec checks they are equal).
 */
export const RESULTS_JSON_SCHEMA = Type.Object(
  {
    schemaVersion: Type.Literal(RESULTS_SCHEMA_VERSION),
    tempered: Str, // @tempered/reports version that wrote the file
    createdAt: Type.String({ format: 'date-time' }),
    // description: the dataset plugin's one-line description, as registered (e.g. which split of which source).
    dataset: Type.Object({ name: Str, split: Type.Literal('test'), size: Int, description: Type.Optional(Str) }),
    evaluatedExamples: Type.Integer({ minimum: 0 }), // the first N examples of the test split, in order
    backend: Type.Object({ name: Str, source: Type.Optional(Str), workers: Type.Integer({ minimum: 0 }) }),
    seed: Type.Optional(Int),
    seeds: Type.Optional(Type.Array(Int)),
    // The run's effective config, seeds as this file's: runs merge only when the rest agrees.
    config: Type.Optional(Params),
    models: Type.Record(Type.String(), ModelResultsSchema),
    // Issue 24 block: paired comparisons of the models (compareModels), and whether merged seeds shared their test examples.
    comparisons: Type.Optional(ComparisonsSchema),
    seedsShareTestExamples: Type.Optional(Type.Boolean()),
    machine: Type.Optional(MachineSchema), // where the run was evaluated (absent from a merge of runs on different machines)
    source: Type.Optional(SourceSchema), // the checkout it was evaluated from (absent from an installed package, or a merge of runs from different sources)
  },
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://tempered.dev/schemas/results-${RESULTS_SCHEMA_VERSION}.json`,
    title: 'Tempered evaluation results',
  },
);
export type ResultsFile = Omit<Of<typeof RESULTS_JSON_SCHEMA>, 'models'> & { readonly models: Readonly<Record<string, ModelResults>> };

/** Key of a (norm, ε) threat model in `threatModels`. */
export function threatModelKey(norm: Norm, epsilon: number): string {
  return `${norm}:${Number(epsilon.toPrecision(12))}`;
}
