import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors.js';
import { assertCompatible } from './model.js';
import { OPTIMIZER_PARAMS, SCHEDULE_PARAMS, createOptimizer, createSchedule, foldFlatOptimizerKeys, learningRateOf } from './optimizers.js';
import { defineParams, validateParams, type ParamSpec, type ParamSpecs, type ParamValues } from './params.js';
import { createPlugin, factoryPlugin } from './registry.js';
import { optimizeStep, type StepLoss } from './step.js';
import { TOKENS } from './tokens.js';
import type {
  Loss, LossContext, MethodSetup, Model, PhaseContext, PluginDescriptor, StepContext, StepResult, Student, Teacher,
  TeacherRoles, TrainingBatch, TrainingMethod, TrainingPhase,
} from './types.js';

/**
 * Parameters every {@link defineMethod} method has; a method's own `params` may override their
 * defaults. `optimizer` and `schedule` are the one optimiser and schedule definition of core
 * ({@link OPTIMIZER_PARAMS}, {@link SCHEDULE_PARAMS}); every phase gets its own optimiser from
 * them. The flat keys of earlier releases (`optimizer: 'sgd'`, `learningRate`, `momentum`) are
 * folded into `optimizer`.
 */
export const METHOD_TRAINING_PARAMS = defineParams({
  epochs: { type: 'number', default: 10, integer: true, min: 1, description: 'Training epochs (events count them from 0)' },
  optimizer: { type: 'object', params: OPTIMIZER_PARAMS, description: 'Optimiser of every phase: { name, learningRate, momentum, weightDecay, beta1, beta2 } (Adam 1e-3 trains at T = 20; SGD stalls)' },
  schedule: { type: 'object', params: SCHEDULE_PARAMS, description: 'Learning-rate schedule of every phase: { name, interval, milestones, gamma, minLearningRate, warmupEpochs }' },
});

/** A loss slot's call: the batch's `x`, `labels`, epoch and step are filled in; `temperature` defaults to 1. */
export type SlotLoss = (context: Partial<LossContext>) => tf.Scalar;
type TeacherOf<T> = T extends 'required' ? Teacher : Teacher | undefined;
type Values<S extends ParamSpecs> = ParamValues<S & typeof METHOD_TRAINING_PARAMS>;

/** What {@link MethodDefinition.step} (or a phase's step) receives for one batch. */
export interface MethodStep<P, L extends string, R, T> {
  readonly batch: TrainingBatch;
  readonly step: StepContext;
  readonly params: P;
  readonly student: Student;
  /** The teacher: the one the method trains itself ({@link MethodDefinition.ownTeacher}), else the run's. */
  readonly teacher: TeacherOf<T>;
  /** The teacher of each role the method declares ({@link MethodDefinition.teachers}); empty when it declares none. */
  readonly teachers: Readonly<Record<string, Teacher>>;
  /** The phase optimiser's learning rate at this step (after the schedule), e.g. to decay a method's own rates with it. */
  readonly learningRate: number;
  /** The model this phase trains (the student, or the method's own teacher). */
  readonly model: Model;
  /** The loss slots, each the method's default or the registered loss the config named. */
  readonly losses: Readonly<Record<L, SlotLoss>>;
  /** What {@link MethodDefinition.prepare} returned. */
  readonly prepared: R;
  /**
   * One optimiser step minimising the closure's loss (runs it on the gradient tape), on the
   * phase model's trainable variables or on `variables` (e.g. the student's plus the method's own).
   */
  minimize(compute: () => StepLoss, variables?: tf.Variable[]): StepResult;
}

/** What a phase's `before`/`after` hooks receive. */
export interface PhaseHook<P, R> extends PhaseContext {
  readonly params: P;
  readonly student: Student;
  /** The teacher: the method's own (being trained, or trained in an earlier phase) or the run's. */
  readonly teacher: Model | undefined;
  readonly prepared: R;
}

/**
 * One phase of a several-phase method. The phases share the method's parameters and `prepared`;
 * each gets its own optimiser (and schedule) from `params.optimizer` / `params.schedule`.
 */
export interface PhaseDefinition<P, L extends string, R, T> {
  /** Name in events, progress lines and metrics.jsonl; it also seeds the phase's shuffles. */
  readonly name: string;
  /** The model the phase trains: the student, or the teacher the method trains itself. */
  readonly trains: 'student' | 'teacher';
  /** The phase's epochs (default `params.epochs`). */
  epochs?(params: P): number;
  /** Whether the phase runs with these parameters (default: always). */
  when?(params: P): boolean;
  /** Runs before the phase's first epoch (also on resume). */
  before?(hook: PhaseHook<P, R>): void | Promise<void>;
  /** Runs after the phase's last epoch. */
  after?(hook: PhaseHook<P, R>): void | Promise<void>;
  step(context: MethodStep<P, L, R, T>): StepResult | Promise<StepResult>;
}

/**
 * A method: its name, parameters, loss slots and per-batch `step` (one phase, named `train`),
 * or its `phases`; everything else (validation, optimisers, schedules, phases, checkpoints of
 * its state, dispose) is {@link defineMethod}'s.
 */
export interface MethodDefinition<S extends ParamSpecs, L extends string, R, T extends 'required' | 'optional' | 'none'> {
  readonly name: string;
  readonly description: string;
  /** Whether the run must supply a teacher ('required'), may ('optional') or is ignored ('none'). */
  readonly teacher: T;
  /**
   * The teachers of a method that distils from more than one, by role: role → what the role is
   * for, primary role first (see {@link TrainingMethod.teacherRoles}); give it with `teacher:
   * 'required'`. The run names each role's teacher; `step` gets them as `teachers`, and `teacher`
   * is the primary role's. Undeclared: one teacher, exactly as before.
   */
  readonly teachers?: TeacherRoles;
  /** Whether it trains on adversarial examples (see {@link TrainingMethod.adversarial}); undeclared: unknown. */
  readonly adversarial?: boolean;
  /** The method's parameters ({@link defineParams}); `epochs`, `optimizer`, `schedule` are added ({@link METHOD_TRAINING_PARAMS}). */
  readonly params: S;
  /**
   * Loss slots with their default loss. Slot `kl` becomes the string parameter `klLoss`, whose
   * default `<method>.kl` means this function; any other value names a loss registered under
   * TOKENS.Loss (created with its default parameters), e.g. `params: { klLoss: ard }`.
   */
  readonly losses?: Readonly<Record<L, SlotLoss>>;
  /** Runs once at setup (e.g. resolve an inner attack); its result is `prepared` in every step. */
  prepare?(setup: MethodSetup, params: Values<S>): R;
  /** Releases what `prepare` allocated. */
  release?(prepared: R): void;
  /** The per-batch step of a one-phase method (give this or `phases`). */
  step?(context: MethodStep<Values<S>, L, R, T>): StepResult | Promise<StepResult>;
  /** The phases of a several-phase method, in order (give this or `step`). */
  readonly phases?: readonly PhaseDefinition<Values<S>, L, R, T>[];
  /** Whether the method trains a teacher of the student's architecture itself (a fresh model from `setup.createModel`). */
  ownTeacher?(params: Values<S>): boolean;
  /** For 'optional' teachers: whether this configuration distils from the run's teacher (default: yes). */
  usesTeacher?(params: Values<S>): boolean;
  /** Extra state to checkpoint (copies the caller disposes), e.g. variables the method trains. */
  state?(prepared: R): Record<string, tf.Tensor>;
  /** Restores {@link state} after setup. */
  loadState?(prepared: R, state: Record<string, tf.Tensor>): void;
}

function slotParams(name: string, slots: readonly string[]): ParamSpecs {
  const specs: Record<string, ParamSpec> = {};
  for (const slot of slots) {
    specs[`${slot}Loss`] = { type: 'string', default: `${name}.${slot}`, description: `Loss of slot "${slot}": ${name}.${slot} (the method's own) or any registered loss name` };
  }
  return specs;
}

/**
 * Turns a {@link MethodDefinition} into a method plugin: it validates the parameters (errors name
 * `<method>.<field>`), checks the teacher, trains its own teacher when the method asks,
 * creates each phase's optimiser and schedule, builds the phases (one, `train`, for a `step`),
 * resolves replaced loss slots by name and implements `result`, `params`, `state` and `dispose`.
 * Register the returned descriptor with `registerPlugin(container, TOKENS.Method, descriptor)`.
 *
 * @example
 * ```ts
 * export const MY_METHOD = defineMethod({
 *   name: 'my-method', description: 'CE on clean inputs', teacher: 'none', params: defineParams({}),
 *   step: ({ batch, student, minimize }) => minimize(() => {
 *     const logits = student.logits(batch.x, { training: true });
 *     return { loss: crossEntropy(logits, batch.labels), logits, labels: batch.labels, accuracyOn: 'clean' };
 *   }),
 * });
 * registerPlugin(container, TOKENS.Method, MY_METHOD);
 * ```
 */
export function defineMethod<S extends ParamSpecs, L extends string = never, R = undefined, T extends 'required' | 'optional' | 'none' = 'none'>(
  definition: MethodDefinition<S, L, R, T>,
): PluginDescriptor<TrainingMethod> {
  const { name } = definition;
  if (!definition.step === !definition.phases) throw new ConfigError(`${name}`, 'a method definition gives either step or phases');
  const defaults = (definition.losses ?? {}) as Record<string, SlotLoss>;
  const specs = { ...METHOD_TRAINING_PARAMS, ...definition.params, ...slotParams(name, Object.keys(defaults)) } as ParamSpecs;
  const normalizeParams = (raw: Record<string, unknown>) => foldFlat(name, raw, definition.params);
  return factoryPlugin(name, (raw) => new DefinedMethod(definition as never, validateParams(name, specs, normalizeParams(raw)) as AnyValues, defaults), {
    description: definition.description,
    params: specs,
    normalizeParams,
  });
}

/** Folds the flat optimiser keys of earlier releases, except those the method declares itself. */
function foldFlat(owner: string, raw: Record<string, unknown>, own: ParamSpecs): Record<string, unknown> {
  const { learningRate, momentum, ...rest } = raw;
  const keep: Record<string, unknown> = {};
  if ('learningRate' in own) keep.learningRate = learningRate;
  else rest.learningRate = learningRate;
  if ('momentum' in own) keep.momentum = momentum;
  else rest.momentum = momentum;
  return { ...foldFlatOptimizerKeys(owner, rest), ...keep };
}

/**
 * The one phase of a method given by `step`: named `train` (a run's teacher trains in it too);
 * its random streams keep the name `student` they had before the rename, so no weight moves.
 */
const SINGLE_PHASE = { name: 'train', streamName: 'student', trains: 'student' } as const;

type AnyValues = Record<string, unknown> & { epochs: number; optimizer: Record<string, unknown>; schedule: Record<string, unknown> };
type AnyDefinition = MethodDefinition<ParamSpecs, string, unknown, 'required' | 'optional' | 'none'>;
type AnyPhase = PhaseDefinition<AnyValues, string, unknown, 'required' | 'optional' | 'none'> & { readonly streamName?: string };
interface Run {
  readonly phases: readonly TrainingPhase[];
  readonly optimizers: readonly tf.Optimizer[];
  readonly student: Student;
  readonly teacher: Model | undefined;
  readonly ownTeacher: Student | undefined;
  readonly prepared: unknown;
}

class DefinedMethod implements TrainingMethod {
  readonly name: string;
  readonly teacher: 'required' | 'optional' | 'none';
  readonly adversarial?: boolean;
  readonly teacherRoles?: TeacherRoles;
  private run?: Run;

  constructor(
    private readonly definition: AnyDefinition,
    private readonly values: AnyValues,
    private readonly defaults: Record<string, SlotLoss>,
  ) {
    this.name = definition.name;
    this.teacher = definition.teacher;
    if (definition.adversarial !== undefined) this.adversarial = definition.adversarial;
    if (definition.teachers) {
      if (Object.keys(definition.teachers).length === 0 || definition.teacher !== 'required') {
        throw new ConfigError(`${definition.name}.teachers`, 'a method definition declares at least one teacher role, with teacher: \'required\'');
      }
      this.teacherRoles = definition.teachers;
    }
  }

  /** The teacher of each declared role, checked against the student; empty without roles. */
  private roleTeachers(setup: MethodSetup): Record<string, Teacher> {
    if (!this.teacherRoles) return {};
    const teachers: Record<string, Teacher> = {};
    for (const role of Object.keys(this.teacherRoles)) {
      const teacher = setup.teachers?.[role];
      if (!teacher) throw new ConfigError(`${this.name}.teachers.${role}`, `${this.name} distils from a ${role} teacher (${this.teacherRoles[role]}); the run must supply one`);
      assertCompatible(teacher, setup.student);
      teachers[role] = teacher;
    }
    return teachers;
  }

  usesTeacher(): boolean {
    return this.teacher !== 'none' && (this.definition.usesTeacher?.(this.values as never) ?? true);
  }

  setup(setup: MethodSetup): void {
    const { student, container } = setup;
    const teachers = this.roleTeachers(setup);
    const primaryRole = this.teacherRoles ? Object.keys(this.teacherRoles)[0]! : undefined;
    const runTeacher = primaryRole ? teachers[primaryRole] : this.usesTeacher() ? setup.teacher : undefined;
    if (this.teacher === 'required' && !runTeacher) throw new ConfigError(`${this.name}.teacher`, `${this.name} distils from a teacher; the run must supply one`);
    if (runTeacher) assertCompatible(runTeacher, student);
    const losses: Record<string, SlotLoss> = {};
    for (const [slot, own] of Object.entries(this.defaults)) {
      const chosen = this.values[`${slot}Loss`] as string;
      if (chosen === `${this.name}.${slot}`) losses[slot] = own;
      else {
        const loss = createPlugin(container, TOKENS.Loss, chosen, {}) as Loss;
        losses[slot] = (context) => loss.compute(context as LossContext);
      }
    }
    this.dispose();
    const prepared = this.definition.prepare?.(setup, this.values as never);
    const ownTeacher = this.definition.ownTeacher?.(this.values as never) ? setup.createModel(`${student.name}-teacher`) : undefined;
    if (ownTeacher) assertCompatible(ownTeacher, student);
    const teacher: Model | undefined = ownTeacher ?? runTeacher;
    const params = this.values;
    const definitions: readonly AnyPhase[] = this.definition.phases
      ? (this.definition.phases as readonly AnyPhase[]).filter((phase) => phase.when?.(params) ?? true)
      : [{ ...SINGLE_PHASE, step: this.definition.step! } as AnyPhase];
    const optimizers: tf.Optimizer[] = [];
    const hook = (context: PhaseContext) => ({ ...context, params, student, teacher, prepared });
    const phases = definitions.map((definition): TrainingPhase => {
      const model = definition.trains === 'teacher' ? ownTeacher : student;
      if (!model) throw new ConfigError(`${this.name}.phases`, `phase "${definition.name}" trains the method's own teacher, which ownTeacher() did not ask for`);
      const optimizer = createOptimizer(params.optimizer, `${this.name}.optimizer`);
      optimizers.push(optimizer);
      const schedule = createSchedule(params.schedule, (params.optimizer as { learningRate: number }).learningRate, `${this.name}.schedule`);
      const trainStep = (batch: TrainingBatch, step: StepContext) => {
        const filled = (context: Partial<LossContext>): LossContext =>
          ({ x: batch.x, labels: batch.labels, temperature: 1, epoch: step.epoch, step: step.step, ...context }) as LossContext;
        const slots = Object.fromEntries(Object.entries(losses).map(([slot, loss]) => [slot, (c: Partial<LossContext>) => loss(filled(c))]));
        return definition.step({
          batch, step, student, teacher: teacher as never, teachers, learningRate: learningRateOf(optimizer) ?? (params.optimizer as { learningRate: number }).learningRate,
          model, prepared, params, losses: slots,
          minimize: (compute, variables) => optimizeStep(optimizer, variables ?? model.trainableVariables(), compute),
        });
      };
      return {
        name: definition.name,
        ...(definition.streamName ? { streamName: definition.streamName } : {}),
        model,
        epochs: definition.epochs?.(params) ?? params.epochs,
        optimizer,
        schedule,
        trainStep,
        ...(definition.before ? { beforePhase: (context: PhaseContext) => definition.before!(hook(context)) } : {}),
        ...(definition.after ? { afterPhase: (context: PhaseContext) => definition.after!(hook(context)) } : {}),
      };
    });
    this.run = { phases, optimizers, student, teacher, ownTeacher, prepared };
  }

  private ready(): Run {
    if (!this.run) throw new ConfigError(`${this.name}.setup`, 'call setup() before training');
    return this.run;
  }

  phases(): readonly TrainingPhase[] {
    return this.ready().phases;
  }

  result(): Student {
    return this.ready().student;
  }

  teacherModel(): Model | undefined {
    return this.run?.teacher;
  }

  state(): Record<string, tf.Tensor> {
    return this.definition.state && this.run ? this.definition.state(this.run.prepared) : {};
  }

  loadState(state: Record<string, tf.Tensor>): void {
    this.definition.loadState?.(this.ready().prepared, state);
  }

  params(): Record<string, unknown> {
    return structuredClone(this.values); // a copy down to optimizer and schedule
  }

  dispose(): void {
    if (!this.run) return;
    for (const optimizer of this.run.optimizers) optimizer.dispose();
    this.run.ownTeacher?.dispose();
    this.definition.release?.(this.run.prepared);
    this.run = undefined;
  }
}
