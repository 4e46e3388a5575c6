import type { AttackMode, Norm } from '@tempered/core';
import { ConfigError } from '@tempered/core';

/**
 * The `results.json` format (version {@link RESULTS_SCHEMA_VERSION}). Reports render from this
 * file alone. Undefined statistics (e.g. a mean distortion when no attack succeeded) are `null`.
 */
export const RESULTS_SCHEMA_VERSION = 1 as const;

/** Success and robust accuracy of a minimum-distortion attack (C&W) restricted to another attack's budget. */
export interface BudgetedSuccess {
  readonly norm: Norm;
  readonly epsilon: number;
  /** Share of attacked rows that succeeded with a perturbation within `epsilon` in `norm`. */
  readonly successRate: number | null;
  /** Share of examples still correct when only perturbations within the budget count. */
  readonly robustAccuracy: number | null;
}

/** Everything measured for one configured attack on one model. */
export interface AttackSummary {
  /** Registered attack name (the key in `attacks` may differ, e.g. "pgd-eps0.1"). */
  readonly name: string;
  /** The attack's full parameters as it reported them (`attack.params()`). */
  readonly params: Record<string, unknown>;
  readonly mode: AttackMode;
  readonly norm: Norm;
  /** Budget in `norm`; null for minimum-distortion attacks (ε = ∞). */
  readonly epsilon: number | null;
  /** Examples attacked (the first `evaluated` of the test split). */
  readonly evaluated: number;
  /** Rows attacked: `evaluated` untargeted, `evaluated × (classes − 1)` targeted on every other class. */
  readonly pairs: number;
  /** Untargeted: flipped / correctly classified. Targeted: target reached / (example, target) pairs of correctly classified examples. */
  readonly successRate: number | null;
  /** Share of examples classified correctly on the clean input and on every adversarial row. */
  readonly robustAccuracy: number | null;
  /** Distortion statistics over successful rows; L0 counts changed input values. */
  readonly meanL0: number | null;
  readonly medianL0: number | null;
  readonly meanL2: number | null;
  readonly medianL2: number | null;
  readonly meanLinf: number | null;
  readonly medianLinf: number | null;
  /** ρ_adv (Papernot et al. 2016): mean fraction of input values changed, over successful rows (JSMA). */
  readonly rhoAdv?: number | null;
  readonly meanIterations: number | null;
  /** For minimum-distortion attacks: success within each bounded attack's budget. */
  readonly budgets?: readonly BudgetedSuccess[];
}

/** A log10-binned histogram of per-example input-gradient norms. */
export interface GradientHistogram {
  /** 'probability': ∇ₓ softmax(z)_ŷ at T = 1 (the paper's Figure); 'loss': ∇ₓ CE(softmax(z), y) at T = 1. */
  readonly quantity: 'probability' | 'loss';
  readonly norm: 'l1' | 'l2';
  readonly temperature: number;
  /** Bin edges as log10 exponents, length `counts.length + 1`. */
  readonly binEdges: readonly number[];
  readonly counts: readonly number[];
  /** Examples whose gradient is exactly zero (no place on a log axis). */
  readonly zeros: number;
  /** Non-zero gradients below the first edge / above the last edge. */
  readonly underflow: number;
  readonly overflow: number;
  readonly count: number;
  readonly mean: number | null;
  readonly median: number | null;
}

export interface SweepPoint {
  readonly epsilon: number;
  readonly robustAccuracy: number | null;
  readonly successRate: number | null;
}

/** Robust accuracy of one attack as its budget grows (robust accuracy vs ε chart, masking check 2). */
export interface EpsilonSweep {
  readonly attack: string;
  readonly params: Record<string, unknown>;
  readonly norm: Norm;
  readonly evaluated: number;
  /** Width of the input range (max − min): at this L∞ budget every input can become any other. */
  readonly range: number;
  readonly points: readonly SweepPoint[];
}

/** A gradient-masking check's finding. */
export interface Diagnostic {
  readonly id: string;
  readonly severity: 'warning' | 'info';
  readonly message: string;
  readonly evidence: Readonly<Record<string, number | string | null>>;
}

/** One epoch of a training curve (filled in by the CLI from the trainer's events). */
export interface TrainingEpoch {
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy?: number;
  readonly [metric: string]: number | undefined;
}

/** Per-phase training curves, e.g. `{ teacher: [...], student: [...] }`. */
export type TrainingCurves = Readonly<Record<string, readonly TrainingEpoch[]>>;

/** A clean/adversarial pair, pixel values rounded to 1/1000, for the report's image grids. */
export interface AdversarialExample {
  /** Position in the test split. */
  readonly index: number;
  readonly label: number;
  readonly target?: number;
  readonly cleanPrediction: number;
  readonly adversarialPrediction: number;
  readonly success: boolean;
  /** Shape without the batch dimension, e.g. [28, 28, 1]. */
  readonly shape: readonly number[];
  readonly clean: readonly number[];
  readonly adversarial: readonly number[];
}

/** Standard deviations across seeds, mirroring the numeric fields they describe. */
export interface ModelSpread {
  readonly cleanAccuracy?: number;
  readonly confidence?: number;
  readonly agreement?: number;
  readonly worstCaseRobustAccuracy?: number;
  readonly attacks?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** How a distilled model's teacher was made (for methods that take one). */
export interface TeacherInfo {
  /** Name of the teacher model: "teacher" (the run's) or another model of the run. */
  readonly name: string;
  /** 'trained' by this run with `method`, 'loaded' from `path`, or 'student': another model of this run. */
  readonly source: 'trained' | 'loaded' | 'student';
  /** Training method, e.g. "standard", "trades", "pgd-at" (trained or student). */
  readonly method?: string;
  readonly methodParams?: Record<string, unknown>;
  /** Architecture name, e.g. "papernot-mnist". */
  readonly model?: string;
  /** Directory the teacher was loaded from ('loaded'). */
  readonly path?: string;
}

export interface ModelResults {
  /** Training method name, e.g. "defensive-distillation", "ard", "pgd-at". */
  readonly method: string;
  readonly methodParams?: Record<string, unknown>;
  /** How this model's teacher was made, when its method distils from one. */
  readonly teacher?: TeacherInfo;
  readonly cleanAccuracy: number;
  /** C(X): mean max softmax probability (T = 1) on correctly classified clean examples. */
  readonly confidence: number | null;
  /** Share of examples where teacher and student argmax agree (when a teacher was given). */
  readonly agreement?: number | null;
  /** AutoAttack-style: share of examples that no attack fooled. */
  readonly worstCaseRobustAccuracy: number | null;
  readonly attacks: Readonly<Record<string, AttackSummary>>;
  /** Histogram of ‖∇ₓ softmax(z)_ŷ‖ at T = 1 (Papernot et al. 2016, Figure on gradient amplitudes). */
  readonly gradientHistogram: GradientHistogram;
  /** Histogram of ‖∇ₓ CE‖ at T = 1 (masking check 4). */
  readonly lossGradientHistogram: GradientHistogram;
  readonly epsilonSweep?: EpsilonSweep;
  readonly diagnostics: readonly Diagnostic[];
  readonly training?: TrainingCurves;
  /** A few adversarial examples per attack key. */
  readonly examples: Readonly<Record<string, readonly AdversarialExample[]>>;
  /** Seeds this entry averages over (set by {@link mergeResults}). */
  readonly seeds?: readonly number[];
  /** Standard deviations across seeds (set by {@link mergeResults} when there are several). */
  readonly std?: ModelSpread;
}

export interface ResultsFile {
  readonly schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  /** @tempered/reports version that wrote the file. */
  readonly tempered: string;
  readonly createdAt: string;
  readonly dataset: { readonly name: string; readonly split: 'test'; readonly size: number };
  /** The first `evaluatedExamples` examples of the test split, in order, were evaluated. */
  readonly evaluatedExamples: number;
  readonly backend: { readonly name: string; readonly source?: string; readonly workers: number };
  readonly seed?: number;
  readonly seeds?: readonly number[];
  readonly models: Readonly<Record<string, ModelResults>>;
}

const nullableNumber = { type: ['number', 'null'] } as const;
const histogramSchema = {
  type: 'object',
  required: ['quantity', 'norm', 'temperature', 'binEdges', 'counts', 'zeros', 'count'],
  properties: {
    quantity: { enum: ['probability', 'loss'] },
    norm: { enum: ['l1', 'l2'] },
    temperature: { type: 'number' },
    binEdges: { type: 'array', items: { type: 'number' } },
    counts: { type: 'array', items: { type: 'integer', minimum: 0 } },
    zeros: { type: 'integer', minimum: 0 },
    underflow: { type: 'integer', minimum: 0 },
    overflow: { type: 'integer', minimum: 0 },
    count: { type: 'integer', minimum: 0 },
    mean: nullableNumber,
    median: nullableNumber,
  },
} as const;

/** JSON Schema (draft 2020-12) of `results.json`, version 1. */
export const RESULTS_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://tempered.dev/schemas/results-1.json',
  title: 'Tempered evaluation results',
  type: 'object',
  required: ['schemaVersion', 'tempered', 'createdAt', 'dataset', 'evaluatedExamples', 'backend', 'models'],
  properties: {
    schemaVersion: { const: RESULTS_SCHEMA_VERSION },
    tempered: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    dataset: {
      type: 'object',
      required: ['name', 'split', 'size'],
      properties: { name: { type: 'string' }, split: { const: 'test' }, size: { type: 'integer' } },
    },
    evaluatedExamples: { type: 'integer', minimum: 0 },
    backend: {
      type: 'object',
      required: ['name', 'workers'],
      properties: { name: { type: 'string' }, source: { type: 'string' }, workers: { type: 'integer', minimum: 0 } },
    },
    seed: { type: 'integer' },
    seeds: { type: 'array', items: { type: 'integer' } },
    models: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['method', 'cleanAccuracy', 'attacks', 'diagnostics', 'gradientHistogram', 'examples'],
        properties: {
          method: { type: 'string' },
          methodParams: { type: 'object' },
          teacher: {
            type: 'object',
            required: ['name', 'source'],
            properties: {
              name: { type: 'string' },
              source: { enum: ['trained', 'loaded', 'student'] },
              method: { type: 'string' },
              methodParams: { type: 'object' },
              model: { type: 'string' },
              path: { type: 'string' },
            },
          },
          cleanAccuracy: { type: 'number', minimum: 0, maximum: 1 },
          confidence: nullableNumber,
          agreement: nullableNumber,
          worstCaseRobustAccuracy: nullableNumber,
          attacks: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              required: ['name', 'params', 'mode', 'norm', 'epsilon', 'evaluated', 'successRate', 'robustAccuracy', 'meanL0', 'meanL2', 'meanLinf'],
              properties: {
                name: { type: 'string' },
                params: { type: 'object' },
                mode: { enum: ['untargeted', 'targeted'] },
                norm: { enum: ['linf', 'l2', 'l0'] },
                epsilon: nullableNumber,
                evaluated: { type: 'integer', minimum: 0 },
                pairs: { type: 'integer', minimum: 0 },
                successRate: nullableNumber,
                robustAccuracy: nullableNumber,
                meanL0: nullableNumber,
                medianL0: nullableNumber,
                meanL2: nullableNumber,
                medianL2: nullableNumber,
                meanLinf: nullableNumber,
                medianLinf: nullableNumber,
                rhoAdv: nullableNumber,
                meanIterations: nullableNumber,
                budgets: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['norm', 'epsilon', 'successRate', 'robustAccuracy'],
                    properties: { norm: { enum: ['linf', 'l2', 'l0'] }, epsilon: { type: 'number' }, successRate: nullableNumber, robustAccuracy: nullableNumber },
                  },
                },
              },
            },
          },
          gradientHistogram: histogramSchema,
          lossGradientHistogram: histogramSchema,
          epsilonSweep: {
            type: 'object',
            required: ['attack', 'norm', 'points'],
            properties: {
              attack: { type: 'string' },
              params: { type: 'object' },
              norm: { enum: ['linf', 'l2', 'l0'] },
              evaluated: { type: 'integer' },
              range: { type: 'number' },
              points: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['epsilon', 'robustAccuracy'],
                  properties: { epsilon: { type: 'number' }, robustAccuracy: nullableNumber, successRate: nullableNumber },
                },
              },
            },
          },
          diagnostics: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'severity', 'message', 'evidence'],
              properties: {
                id: { type: 'string' },
                severity: { enum: ['warning', 'info'] },
                message: { type: 'string' },
                evidence: { type: 'object', additionalProperties: { type: ['number', 'string', 'null'] } },
              },
            },
          },
          training: {
            type: 'object',
            additionalProperties: {
              type: 'array',
              items: { type: 'object', required: ['epoch', 'loss'], properties: { epoch: { type: 'integer' }, loss: { type: 'number' } } },
            },
          },
          examples: {
            type: 'object',
            additionalProperties: {
              type: 'array',
              items: {
                type: 'object',
                required: ['index', 'label', 'cleanPrediction', 'adversarialPrediction', 'success', 'shape', 'clean', 'adversarial'],
              },
            },
          },
          seeds: { type: 'array', items: { type: 'integer' } },
          std: { type: 'object' },
        },
      },
    },
  },
} as const;

/**
 * Checks the parts of a parsed results.json that rendering relies on and returns it typed.
 * Throws a ConfigError naming the file and field otherwise.
 */
export function parseResults(value: unknown, source = 'results.json'): ResultsFile {
  const fail = (field: string, expected: string): never => {
    throw new ConfigError(`${source}: ${field}`, expected);
  };
  if (typeof value !== 'object' || value === null) return fail('(root)', 'expected a JSON object');
  const file = value as Partial<ResultsFile>;
  if (file.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    return fail('schemaVersion', `expected ${RESULTS_SCHEMA_VERSION}, got ${JSON.stringify(file.schemaVersion)}`);
  }
  if (typeof file.models !== 'object' || file.models === null) return fail('models', 'expected an object of model results');
  for (const [name, model] of Object.entries(file.models)) {
    if (typeof model?.method !== 'string') fail(`models.${name}.method`, 'expected a string');
    if (typeof model.cleanAccuracy !== 'number') fail(`models.${name}.cleanAccuracy`, 'expected a number');
    if (typeof model.attacks !== 'object' || model.attacks === null) fail(`models.${name}.attacks`, 'expected an object');
    if (!Array.isArray(model.diagnostics)) fail(`models.${name}.diagnostics`, 'expected an array');
  }
  if (typeof file.evaluatedExamples !== 'number') fail('evaluatedExamples', 'expected a number');
  return file as ResultsFile;
}
