import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors.js';
import { assertCompatible } from './model.js';
import { createOptimizer } from './optimizers.js';
import { defineParams, validateParams, type ParamSpec, type ParamSpecs, type ParamValues } from './params.js';
import { createPlugin, factoryPlugin } from './registry.js';
import { optimizeStep, type StepLoss } from './step.js';
import { TOKENS } from './tokens.js';
import type {
  DistillationMethod, Loss, LossContext, MethodSetup, PluginDescriptor, StepContext, StepResult, Student, Teacher,
  TrainingBatch, TrainingPhase,
} from './types.js';

/** Parameters every {@link defineMethod} method has; a method's own `params` may override their defaults. */
export const METHOD_TRAINING_PARAMS = defineParams({
  epochs: { type: 'number', default: 10, integer: true, min: 1, description: 'Training epochs (events count them from 0)' },
  optimizer: { type: 'enum', values: ['adam', 'sgd', 'momentum'], default: 'adam', description: 'Optimiser' },
  learningRate: { type: 'number', default: 1e-3, greaterThan: 0, description: 'Learning rate (Adam 1e-3 trains at T = 20; SGD stalls)' },
});

/** A loss slot's call: the batch's `x`, `labels`, epoch and step are filled in; `temperature` defaults to 1. */
export type SlotLoss = (context: Partial<LossContext>) => tf.Scalar;
type TeacherOf<T> = T extends 'required' ? Teacher : Teacher | undefined;

/** What {@link MethodDefinition.step} receives for one batch. */
export interface MethodStep<P, L extends string, R, T> {
  readonly batch: TrainingBatch;
  readonly step: StepContext;
  readonly params: P;
  readonly student: Student;
  readonly teacher: TeacherOf<T>;
  /** The loss slots, each the method's default or the registered loss the config named. */
  readonly losses: Readonly<Record<L, SlotLoss>>;
  /** What {@link MethodDefinition.prepare} returned. */
  readonly prepared: R;
  /** One optimiser step on the student minimising the closure's loss (runs it on the gradient tape). */
  minimize(compute: () => StepLoss): StepResult;
}

/** A one-phase method: its name, parameters, loss slots and per-batch step; everything else is {@link defineMethod}'s. */
export interface MethodDefinition<S extends ParamSpecs, L extends string, R, T extends 'required' | 'optional' | 'none'> {
  readonly name: string;
  readonly description: string;
  readonly teacher: T;
  /** The method's parameters ({@link defineParams}); `epochs`, `optimizer`, `learningRate` are added (a declared `momentum` reaches the optimiser too). */
  readonly params: S;
  /**
   * Loss slots with their default loss. Slot `kl` becomes the string parameter `klLoss`, whose
   * default `<method>.kl` means this function; any other value names a loss registered under
   * TOKENS.Loss (created with its default parameters), e.g. `params: { klLoss: ard }`.
   */
  readonly losses?: Readonly<Record<L, SlotLoss>>;
  /** Runs once at setup (e.g. resolve an inner attack); its result is `prepared` in every step. */
  prepare?(setup: MethodSetup, params: ParamValues<S & typeof METHOD_TRAINING_PARAMS>): R;
  /** Releases what `prepare` allocated. */
  release?(prepared: R): void;
  step(context: MethodStep<ParamValues<S & typeof METHOD_TRAINING_PARAMS>, L, R, T>): StepResult | Promise<StepResult>;
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
 * `<method>.<field>`), checks the teacher, creates the optimiser, builds the single "student"
 * phase, resolves replaced loss slots by name and implements `result`, `params` and `dispose`.
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
): PluginDescriptor<DistillationMethod> {
  const { name } = definition;
  const defaults = (definition.losses ?? {}) as Record<string, SlotLoss>;
  const specs = { ...METHOD_TRAINING_PARAMS, ...definition.params, ...slotParams(name, Object.keys(defaults)) } as ParamSpecs;
  return factoryPlugin(name, (raw) => new DefinedMethod(definition as never, validateParams(name, specs, raw), defaults), {
    description: definition.description,
    params: specs,
  });
}

type AnyDefinition = MethodDefinition<ParamSpecs, string, unknown, 'required' | 'optional' | 'none'>;
interface Run { readonly phase: TrainingPhase; readonly optimizer: tf.Optimizer; readonly student: Student; readonly prepared: unknown }

class DefinedMethod implements DistillationMethod {
  readonly name: string;
  readonly teacher: 'required' | 'optional' | 'none';
  private run?: Run;

  constructor(
    private readonly definition: AnyDefinition,
    private readonly values: Record<string, unknown>,
    private readonly defaults: Record<string, SlotLoss>,
  ) {
    this.name = definition.name;
    this.teacher = definition.teacher;
  }

  setup(setup: MethodSetup): void {
    const { student, teacher, container } = setup;
    if (this.teacher === 'required' && !teacher) throw new ConfigError(`${this.name}.teacher`, `${this.name} distils from a teacher; the run must supply one`);
    if (teacher && this.teacher !== 'none') assertCompatible(teacher, student);
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
    const { optimizer: name, learningRate, momentum } = this.values as { optimizer: 'adam'; learningRate: number; momentum?: number };
    const optimizer = createOptimizer({ name, learningRate, ...(momentum === undefined ? {} : { momentum }) }, `${this.name}.optimizer`);
    const trainStep = (batch: TrainingBatch, step: StepContext) => {
      const filled = (context: Partial<LossContext>): LossContext =>
        ({ x: batch.x, labels: batch.labels, temperature: 1, epoch: step.epoch, step: step.step, ...context }) as LossContext;
      const slots = Object.fromEntries(Object.entries(losses).map(([slot, loss]) => [slot, (c: Partial<LossContext>) => loss(filled(c))]));
      return this.definition.step({
        batch, step, student, teacher, prepared, params: this.values as never, losses: slots,
        minimize: (compute) => optimizeStep(optimizer, student.trainableVariables(), compute),
      });
    };
    const phase: TrainingPhase = { name: 'student', model: student, epochs: this.values.epochs as number, optimizer, trainStep };
    this.run = { phase, optimizer, student, prepared };
  }

  private ready(): Run {
    if (!this.run) throw new ConfigError(`${this.name}.setup`, 'call setup() before training');
    return this.run;
  }

  phases(): readonly TrainingPhase[] {
    return [this.ready().phase];
  }

  result(): Student {
    return this.ready().student;
  }

  params(): Record<string, unknown> {
    return { ...this.values };
  }

  dispose(): void {
    if (!this.run) return;
    this.run.optimizer.dispose();
    this.definition.release?.(this.run.prepared);
    this.run = undefined;
  }
}
