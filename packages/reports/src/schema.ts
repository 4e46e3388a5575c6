import type { AttackMode, Norm } from '@tempered/core';
import type { Interval } from './stats.js';

export type { Interval } from './stats.js';

/**
 * The `results.json` format (version {@link RESULTS_SCHEMA_VERSION}). Reports render from this
 * file alone. Undefined statistics (e.g. a mean distortion when no attack succeeded) are `null`.
 * Every accuracy and success rate has a 95 % Wilson interval (`…Interval`) for its own N.
 * Version 2 replaced the cross-threat-model `worstCaseRobustAccuracy` by `threatModels`.
 */
export const RESULTS_SCHEMA_VERSION = 2 as const;

/** Success and robust accuracy of a minimum-distortion attack (C&W) restricted to a threat model's budget. */
export interface BudgetedSuccess {
  readonly norm: Norm;
  readonly epsilon: number;
  /** Share of attacked rows that succeeded with a perturbation within `epsilon` in `norm`. */
  readonly successRate: number | null;
  readonly successRateInterval?: Interval | null;
  /** Share of examples still correct when only perturbations within the budget count. */
  readonly robustAccuracy: number | null;
  readonly robustAccuracyInterval?: Interval | null;
}

/**
 * 'bounded': the attack searches a (norm, ε) ball and belongs to that threat model.
 * 'minimum-distortion': it looks for the smallest perturbation (C&W, ε = ∞; JSMA, up to a share
 * γ of the features): success rate and distortion describe it, it never enters a worst case.
 */
export type AttackKind = 'bounded' | 'minimum-distortion';

/** Everything measured for one configured attack on one model. */
export interface AttackSummary {
  /** Registered attack name (the key in `attacks` may differ, e.g. "pgd-eps0.1"). */
  readonly name: string;
  /** The attack's full parameters as it reported them (`attack.params()`). */
  readonly params: Record<string, unknown>;
  readonly mode: AttackMode;
  readonly norm: Norm;
  readonly kind?: AttackKind;
  /** Budget in `norm` of a bounded attack; null for minimum-distortion attacks. */
  readonly epsilon: number | null;
  /** Key in `threatModels` of a bounded attack. */
  readonly threatModel?: string;
  /** JSMA: the most input values it may change (γ × features), in the unit of `meanL0`. */
  readonly maxL0?: number;
  /** Examples attacked (the first `evaluated` of the test split). */
  readonly evaluated: number;
  /** Rows attacked: `evaluated` untargeted, `evaluated × (classes − 1)` targeted on every other class. */
  readonly pairs: number;
  /** Rows of correctly classified examples: the N of `successRate`. */
  readonly attackable?: number;
  /** Untargeted: flipped / correctly classified. Targeted: target reached / (example, target) pairs of correctly classified examples. */
  readonly successRate: number | null;
  readonly successRateInterval?: Interval | null;
  /** Share of examples classified correctly on the clean input and on every adversarial row (N = `evaluated`). */
  readonly robustAccuracy: number | null;
  readonly robustAccuracyInterval?: Interval | null;
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
  /** For minimum-distortion attacks: success within each threat model's budget. */
  readonly budgets?: readonly BudgetedSuccess[];
  /** Ensembles (AutoAttack): the component attacks that actually ran, in order. */
  readonly ran?: readonly string[];
}

/** Accuracy of one true class within a threat model (Fair-ARD, Yue et al. 2023, reports the worst). */
export interface ClassAccuracy {
  readonly label: number;
  readonly examples: number;
  readonly cleanAccuracy: number | null;
  readonly robustAccuracy: number | null;
  readonly robustAccuracyInterval?: Interval | null;
}

/** A diagnostic re-run of a threat model's white-box attack on the first `evaluated` examples. */
export interface Rerun {
  /** Key of the configured attack that was re-run (the reference). */
  readonly attack: string;
  /** What changed: another seed (restart), twice the steps, or adversarials crafted on another model (transfer). */
  readonly change: string;
  readonly evaluated: number;
  /** The re-run's robust accuracy on those examples. */
  readonly robustAccuracy: number | null;
  /** Reference attacks' robust accuracy on those examples (restart, more steps: the attack itself; transfer: the white-box attacks). */
  readonly referenceRobustAccuracy: number | null;
  /** Examples the re-run broke that the reference attacks left robust. */
  readonly newlyBroken: number;
  /** Examples the re-run broke that no attack of the threat model broke (the worst case overstates by these). */
  readonly beyondWorstCase?: number;
}

/** Results of one (norm, ε) threat model: the per-example worst case over its bounded attacks. */
export interface ThreatModelResult {
  readonly norm: Norm;
  readonly epsilon: number;
  /** Keys of the attacks (in `attacks`) of this threat model, in the order they ran. */
  readonly attacks: readonly string[];
  /** Attacks that actually ran, ensembles expanded ("autoattack/apgd-ce"). */
  readonly ran: readonly string[];
  readonly evaluated: number;
  readonly cleanAccuracy: number;
  readonly cleanAccuracyInterval?: Interval | null;
  /** Share of examples correct on the clean input and on every row of every attack of this threat model. */
  readonly robustAccuracy: number | null;
  readonly robustAccuracyInterval?: Interval | null;
  /** Examples each attack broke first (in run order), "clean" for examples misclassified without attack. */
  readonly breakers: Readonly<Record<string, number>>;
  /** Per example: "clean", the attack that broke it first, or null if robust. Kept per seed when merged. */
  readonly brokenBy?: readonly (string | null)[];
  /** Examples each attack (ensemble components apart) broke, by position. Kept per seed when merged. */
  readonly broken?: Readonly<Record<string, readonly number[]>>;
  readonly perClass: readonly ClassAccuracy[];
  /** The class with the lowest robust accuracy. */
  readonly worstClass: { readonly label: number; readonly robustAccuracy: number | null } | null;
  /** Diagnostic re-runs (restart, more steps, transfer from the baseline). */
  readonly reruns?: Readonly<Record<string, Rerun>>;
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
  /** Examples whose gradient has every component exactly zero (no place on a log axis). */
  readonly zeros: number;
  /** Examples whose gradient has a NaN or infinite component. */
  readonly nonFinite?: number;
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
  readonly robustAccuracyInterval?: Interval | null;
  readonly successRate: number | null;
}

/** Robust accuracy of one attack as its budget grows (robust accuracy vs ε chart, masking checks). */
export interface EpsilonSweep {
  readonly attack: string;
  readonly params: Record<string, unknown>;
  readonly norm: Norm;
  readonly evaluated: number;
  /** Width of the input range (max − min): at this L∞ budget every input can become any other. */
  readonly range: number;
  readonly points: readonly SweepPoint[];
}

/**
 * A check's outcome. `status`: 'flagged' (the check fired; `severity` 'warning'), 'passed'
 * (it ran and found nothing), 'not-run' (what it needs was not measured; the message says what).
 */
export interface Diagnostic {
  readonly id: string;
  readonly status?: 'flagged' | 'passed' | 'not-run';
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

/**
 * Sample standard deviations across seeds, mirroring the numeric fields of {@link ModelResults}
 * they describe (e.g. `std.attacks.pgd.robustAccuracy`, `std.threatModels['linf:0.3'].robustAccuracy`).
 */
export interface ModelSpread {
  readonly cleanAccuracy?: number;
  readonly confidence?: number;
  readonly agreement?: number;
  readonly attacks?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly threatModels?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly [field: string]: unknown;
}

/** What a seed merge keeps per seed because it cannot be averaged. */
export interface SeedSpecific {
  readonly threatModels: Readonly<Record<string, Pick<ThreatModelResult, 'brokenBy' | 'broken'>>>;
  /** Non-numeric fields that differed between seeds, by path (the merged field joins or nulls them). */
  readonly values?: Readonly<Record<string, unknown>>;
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
  /** Classes of the dataset (chance accuracy is 1 / classes). */
  readonly classes?: number;
  /** How this model's teacher was made, when its method distils from one. */
  readonly teacher?: TeacherInfo;
  readonly cleanAccuracy: number;
  readonly cleanAccuracyInterval?: Interval | null;
  /** C(X): mean max softmax probability (T = 1) on correctly classified clean examples. */
  readonly confidence: number | null;
  /** Share of examples where teacher and student argmax agree (when a teacher was given). */
  readonly agreement?: number | null;
  readonly agreementInterval?: Interval | null;
  /** Per (norm, ε) threat model, keyed "norm:ε" (e.g. "linf:0.3"): the per-example worst case. */
  readonly threatModels: Readonly<Record<string, ThreatModelResult>>;
  readonly attacks: Readonly<Record<string, AttackSummary>>;
  /** Histogram of ‖∇ₓ softmax(z)_ŷ‖ at T = 1 (Papernot et al. 2016, Figure on gradient amplitudes). */
  readonly gradientHistogram: GradientHistogram;
  /** Histogram of ‖∇ₓ CE‖ at T = 1 (zero or non-finite gradient check). */
  readonly lossGradientHistogram: GradientHistogram;
  readonly epsilonSweep?: EpsilonSweep;
  readonly diagnostics: readonly Diagnostic[];
  readonly training?: TrainingCurves;
  /** A few adversarial examples per attack key (the first seed's when merged). */
  readonly examples: Readonly<Record<string, readonly AdversarialExample[]>>;
  /** Seeds this entry averages over (set by {@link mergeResults}). */
  readonly seeds?: readonly number[];
  /** Standard deviations across seeds (set by {@link mergeResults} when there are several). */
  readonly std?: ModelSpread;
  /** Field paths (e.g. "attacks.cw.meanL2") that were null on some seeds: path → those seeds. */
  readonly missing?: Readonly<Record<string, readonly number[]>>;
  /** Seed → what the merge could not average (set by {@link mergeResults}). */
  readonly perSeed?: Readonly<Record<string, SeedSpecific>>;
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

/** Key of a (norm, ε) threat model in `threatModels`. */
export function threatModelKey(norm: Norm, epsilon: number): string {
  return `${norm}:${Number(epsilon.toPrecision(12))}`;
}
