import type * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import type { Rng } from './random.js';
import type { ParamSpecs } from './params.js';
import type { LearningRateSchedule } from './optimizers.js';
import type { Norm } from './norm.js';

/** Inclusive range of valid input values (pixel space; normalisation belongs inside the model). */
export interface InputBounds {
  readonly min: number;
  readonly max: number;
}

/** What a model computes in one forward pass. The caller owns (and disposes) the tensors. */
export interface ModelOutputs {
  /** Pre-softmax scores, shape [batch, numClasses]. */
  readonly logits: tf.Tensor2D;
  /** Penultimate-layer features, shape [batch, featureSize], when the model exposes them. */
  readonly features?: tf.Tensor2D;
}

export interface ForwardOptions {
  /** Training mode (dropout active, batch-norm uses batch statistics). Default false. */
  readonly training?: boolean;
}

/** A classifier over inputs of `inputShape` (without the batch dimension). */
export interface Model {
  readonly name: string;
  readonly numClasses: number;
  readonly inputShape: readonly number[];
  readonly bounds: InputBounds;
  /** True when {@link Model.forward} returns `features`. */
  readonly hasFeatures: boolean;
  /** Logits for a batch [batch, ...inputShape] → [batch, numClasses]. */
  logits(x: tf.Tensor, options?: ForwardOptions): tf.Tensor2D;
  /** Logits and (when available) penultimate features in one pass. */
  forward(x: tf.Tensor, options?: ForwardOptions): ModelOutputs;
  /** Variables an optimiser may update (empty for a frozen teacher). */
  trainableVariables(): tf.Variable[];
  /** Copies of every weight, trainable or not (e.g. batch-norm statistics), in a stable order. */
  getWeights(): tf.Tensor[];
  /** Assigns weights in the order of {@link Model.getWeights}. */
  setWeights(weights: tf.Tensor[]): void;
  /** Releases the model's variables. */
  dispose(): void;
  /**
   * Capability: the tfjs LayersModel behind this model, for saving it as model.json (see
   * `layersModelOf`). Absent on models that are not Layers models (e.g. a raw logits function).
   */
  toLayersModel?(): tf.LayersModel;
}

/** A frozen model whose outputs a student imitates. `trainableVariables()` is empty. */
export interface Teacher extends Model {
  readonly role: 'teacher';
}

/** A model being trained. */
export interface Student extends Model {
  readonly role: 'student';
}

/** A batch of training data; `indices` are the examples' positions in the training set. */
export interface TrainingBatch {
  readonly x: tf.Tensor;
  /** int32 class labels, shape [batch]. */
  readonly labels: tf.Tensor1D;
  readonly indices: Int32Array;
}

/**
 * Everything a loss may look at for one batch. Tensors belong to the caller; a loss returns a
 * new scalar and must not dispose its inputs.
 */
export interface LossContext {
  /** Clean inputs [batch, ...inputShape]. */
  readonly x: tf.Tensor;
  /** Adversarial inputs, when the method crafts them. */
  readonly xAdv?: tf.Tensor;
  /** int32 labels [batch]. */
  readonly labels: tf.Tensor1D;
  /** Student outputs on clean x. */
  readonly student?: ModelOutputs;
  /** Student outputs on xAdv. */
  readonly studentAdv?: ModelOutputs;
  /** Teacher outputs on clean x. */
  readonly teacher?: ModelOutputs;
  /** Precomputed soft targets (probabilities) [batch, numClasses], e.g. defensive distillation. */
  readonly softTargets?: tf.Tensor2D;
  /** Softmax temperature T of this training stage. */
  readonly temperature: number;
  readonly epoch: number;
  readonly step: number;
}

/** A scalar training objective (torchdistill style: losses compose as weighted terms). */
export interface Loss {
  readonly name: string;
  /** Mean loss over the batch, a scalar the caller disposes. */
  compute(context: LossContext): tf.Scalar;
}

export type { Norm } from './norm.js';
export type AttackMode = 'untargeted' | 'targeted';
/** What a unit needs from the model; checked at construction or before a run. */
export type ModelCapability = 'logits' | 'inputGradients' | 'features';

export interface AttackOptions {
  /** Default 'untargeted'. An attack throws for a mode it does not support. */
  readonly mode?: AttackMode;
  /** int32 target classes [batch] for targeted mode. */
  readonly targets?: tf.Tensor1D;
  /** Overrides the model's input bounds. */
  readonly bounds?: InputBounds;
  /** Seed for random starts; default derived from the attack's own seed parameter. */
  readonly seed?: number;
}

/** Per-batch outcome of an attack. `adversarial` belongs to the caller. */
export interface AttackResult {
  readonly adversarial: tf.Tensor;
  /** Iterations each example used (1 for single-step attacks). */
  readonly iterations: Int32Array;
  /**
   * Ensembles (AutoAttack) only: per example, the name of the component attack that first broke
   * it, or null when it is still robust (also null for an example misclassified before any attack).
   */
  readonly brokenBy?: readonly (string | null)[];
  /** Ensembles only: the component attacks that actually ran, in order (a component is skipped once no example is robust). */
  readonly ran?: readonly string[];
}

/**
 * What the evaluation engine needs to know about an attack, declared by the attack itself (IBM
 * ART's estimator requirements, torchattacks' supported modes): the engine asks, never tests a name.
 * Read it through {@link attackTraits}, which fills in the defaults for an attack that declares none.
 */
export interface AttackTraits {
  /** The mode a config that names none runs (default 'untargeted'; JSMA: 'targeted'). */
  readonly defaultMode: AttackMode;
  /** Score-based: never reads a gradient, so gradient masking cannot stop it (Square). Default: `requires` lacks 'inputGradients'. */
  readonly blackBox: boolean;
  /**
   * Looks for the smallest perturbation rather than searching a ball (C&W, JSMA): it never enters
   * a threat model's worst case. Default: true exactly when `epsilon` is not finite.
   */
  readonly minimumDistortion: boolean;
  /** One gradient step, no start or step count to vary (FGSM). Default false. */
  readonly singleStep: boolean;
  /** Runs other attacks (AutoAttack): too costly to re-run in the diagnostics. Default false. */
  readonly ensemble: boolean;
  /** Ensembles: the components that are black-box, by the name they report in `ran`/`brokenBy`. Default []. */
  readonly blackBoxComponents: readonly string[];
  /**
   * The params that turn this configuration into its margin-loss twin (Carlini & Wagner's loss at
   * the same budget, for the gradient-masking check), or undefined when it has none (default).
   */
  marginTwin?(params: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined;
}

/** An evasion attack (torchattacks style: one `generate(x, y)`; every parameter has a default). */
export interface Attack {
  readonly name: string;
  /** The norm the perturbation is measured in. */
  readonly norm: Norm;
  /** Budget in `norm` (Infinity for minimum-distortion attacks such as C&W). */
  readonly epsilon: number;
  readonly supportedModes: readonly AttackMode[];
  readonly requires: readonly ModelCapability[];
  /** What the engine needs to know about this attack; missing fields take {@link attackTraits}' defaults. */
  readonly traits?: Partial<AttackTraits>;
  /** Adversarial inputs for x [batch, ...] with labels y (int32 [batch]); caller disposes. */
  generate(model: Model, x: tf.Tensor, y: tf.Tensor1D, options?: AttackOptions): Promise<tf.Tensor>;
  /** Like generate, with per-example iteration counts. */
  run(model: Model, x: tf.Tensor, y: tf.Tensor1D, options?: AttackOptions): Promise<AttackResult>;
  /** Current parameters (a copy). */
  params(): Record<string, unknown>;
  /**
   * The parameters it runs with: `params()` with every shorthand resolved (e.g. PGD's stepSize 0 →
   * 2.5·ε/steps), so re-running from them reproduces the attack. What an evaluation records;
   * when absent, `params()` is recorded.
   */
  effectiveParams?(): Record<string, unknown>;
  /** Validates and sets parameters; unknown names throw. */
  setParams(params: Record<string, unknown>): void;
}

/** What an evaluation hands to metrics for one batch (tensors belong to the caller). */
export interface EvaluationBatch {
  readonly modelName: string;
  readonly x: tf.Tensor;
  readonly labels: tf.Tensor1D;
  readonly logits: tf.Tensor2D;
  readonly teacherLogits?: tf.Tensor2D;
  readonly attack?: {
    readonly name: string;
    readonly mode: AttackMode;
    readonly adversarial: tf.Tensor;
    readonly adversarialLogits: tf.Tensor2D;
    readonly targets?: tf.Tensor1D;
    readonly iterations?: Int32Array;
  };
}

/** A streaming metric: `update` per batch, `result` at the end. */
export interface Metric<R = unknown> {
  readonly name: string;
  reset(): void;
  update(batch: EvaluationBatch): void | Promise<void>;
  result(): R;
}

/** An in-memory labelled dataset that gathers batches on demand. */
export interface Dataset {
  readonly name: string;
  readonly size: number;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** int32 labels of every example. */
  readonly labels: Int32Array;
  /** Gathers the examples at `indices` (in that order) into tensors the caller disposes. */
  batch(indices: ArrayLike<number>): { x: tf.Tensor; labels: tf.Tensor1D };
  /** The first `count` examples from `start` (a view, no copy). */
  slice(start: number, count: number): Dataset;
}

/** Where a step is within training; random streams derive from `seed` and these numbers. */
export interface StepContext {
  readonly phase: string;
  readonly epoch: number;
  /** Batch index within the epoch. */
  readonly batch: number;
  /** Steps taken in this phase before this one. */
  readonly step: number;
  /** Deterministic stream for this step (random starts etc.). */
  readonly rng: Rng;
}

/** What the accuracy a step reports is measured on: the clean batch x, or its adversarial x′. */
export type AccuracyInput = 'clean' | 'adversarial';

/** Scalars a training step reports; `loss` must be finite. */
export interface StepResult {
  readonly loss: number;
  /** Named loss terms (unweighted), for logs. */
  readonly terms?: Readonly<Record<string, number>>;
  /** Correct predictions in this batch (for epoch accuracy). */
  readonly correct?: number;
  /** What `correct` was counted on (the step knows which logits it returned). */
  readonly accuracyOn?: AccuracyInput;
}

/** One stage of a method, e.g. "teacher" then "student" for defensive distillation. */
export interface TrainingPhase {
  /** What the phase does, in events, progress lines and metrics.jsonl (e.g. `train`, `teacher`, `student`). */
  readonly name: string;
  /**
   * The name the phase's shuffles and per-step random streams derive from; defaults to `name`.
   * Lets a phase be renamed without moving a weight (one-phase methods keep `student`).
   */
  readonly streamName?: string;
  /** The model this phase trains; its weights and the optimiser's go into checkpoints. */
  readonly model: Model;
  readonly epochs: number;
  readonly optimizer: tf.Optimizer;
  /** The learning rate at each position; the trainer sets it on `optimizer` before every step. Absent: the optimiser's rate stays. */
  readonly schedule?: LearningRateSchedule;
  /** Runs once before the first epoch of this phase (also on resume). */
  beforePhase?(context: PhaseContext): void | Promise<void>;
  trainStep(batch: TrainingBatch, context: StepContext): StepResult | Promise<StepResult>;
  afterPhase?(context: PhaseContext): void | Promise<void>;
}

export interface PhaseContext {
  readonly train: Dataset;
  readonly batchSize: number;
  readonly seed: number;
}

/** Teacher roles of a several-teacher method: role → description, primary role first (see {@link TrainingMethod.teacherRoles}). */
export type TeacherRoles = Readonly<Record<string, string>>;

/** What a method receives before training. */
export interface MethodSetup {
  /** The student to train (a fresh model of the configured architecture). */
  readonly student: Student;
  /** The run's teacher, when the run has one; for a method with {@link TrainingMethod.teacherRoles}, its primary (first) role's teacher. */
  readonly teacher?: Teacher;
  /** The teacher of each role a method declares in {@link TrainingMethod.teacherRoles} (role → teacher); absent for one-teacher methods. */
  readonly teachers?: Readonly<Record<string, Teacher>>;
  /** Builds another fresh model of the student's architecture (e.g. defensive distillation's teacher). */
  readonly createModel: (name: string) => Student;
  readonly train: Dataset;
  readonly batchSize: number;
  readonly seed: number;
  /** The run's child container, to resolve attacks, losses and other plugins by name. */
  readonly container: DependencyContainer;
}

/**
 * How a model is trained: setup, then one or more phases of per-batch steps. Covers methods that
 * distil (kd, ard, …) and those that do not (standard, pgd-at, trades).
 */
export interface TrainingMethod {
  readonly name: string;
  /** 'required': the run must supply a teacher; 'none': the method ignores it. */
  readonly teacher: 'required' | 'optional' | 'none';
  /**
   * Whether the method trains on adversarial examples (PGD-AT, TRADES, ARD: true; standard
   * training: false). Undeclared: unknown. The transfer check's default source is the first model
   * whose method needs no teacher and declares `adversarial: false`.
   */
  readonly adversarial?: boolean;
  /**
   * The teachers a method distils from when it takes more than one, by role (role → what the
   * role is for), in order: the first is the primary role, the one reports read as "the" teacher
   * (taught by, student-teacher gap). Absent: one teacher, {@link MethodSetup.teacher}. The run
   * names each role's teacher (`students[i].teachers`), never by the method's name.
   */
  readonly teacherRoles?: TeacherRoles;
  /**
   * For 'optional' methods: whether this configuration distils from the supplied teacher (e.g.
   * defensive distillation only with `reuseTeacher`), so the run records that teacher for it.
   * Absent: 'optional' counts as using it.
   */
  usesTeacher?(): boolean;
  setup(setup: MethodSetup): void | Promise<void>;
  phases(): readonly TrainingPhase[];
  /** The trained model to evaluate and save (normally the student, deployed at T = 1). */
  result(): Student;
  /** Extra state to checkpoint (e.g. CRDND's transition matrix); caller disposes copies. */
  state?(): Record<string, tf.Tensor>;
  loadState?(state: Record<string, tf.Tensor>): void;
  /** Current parameters, for results.json. */
  params(): Record<string, unknown>;
  /** The teacher this method distils from once set up: the one it trains itself, or the run's; absent when it has none. */
  teacherModel?(): Model | undefined;
  dispose(): void;
}

/** A named, parameterised factory registered in a DI container (torchdistill's `name` + `params`). */
export interface PluginDescriptor<T> {
  readonly name: string;
  readonly description?: string;
  /** The parameter spec, when the plugin declares one (used for validation and JSON Schema). */
  readonly params?: ParamSpecs;
  /**
   * Rewrites raw params into the form `params` describes before validation (e.g. a method's flat
   * optimiser keys of earlier releases folded into `optimizer`); what `create` does first too, so a
   * config check before any training accepts exactly what creation accepts.
   */
  readonly normalizeParams?: (raw: Record<string, unknown>) => Record<string, unknown>;
  create(params: Record<string, unknown> | undefined, container: DependencyContainer): T;
}
