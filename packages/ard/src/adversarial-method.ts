import type * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  createOptimizer,
  type DistillationMethod,
  type MethodSetup,
  type StepContext,
  type StepResult,
  type Student,
  type Teacher,
  type TrainingBatch,
  type TrainingPhase,
} from '@tempered/core';
import { EpsilonSchedule, ScheduledInnerAttack, batchesPerEpoch, type InnerMaxSettings } from './inner-maximization.js';

/** Settings every adversarial-training method of this package has. */
export interface AdversarialTrainingSettings extends Omit<InnerMaxSettings, 'innerAttack'> {
  readonly innerAttack?: string;
  readonly epochs: number;
  readonly optimizer: 'adam' | 'sgd' | 'momentum';
  readonly learningRate: number;
}

/** What a prepared method trains with. */
export interface PreparedRun {
  readonly student: Student;
  readonly teacher?: Teacher;
  /** The named inner attack under the ε warm-up (absent when the method crafts x′ itself, as TRADES). */
  readonly inner?: ScheduledInnerAttack;
  /** The ε warm-up (the budget at each step). */
  readonly schedule: EpsilonSchedule;
  readonly optimizer: tf.Optimizer;
  readonly phase: TrainingPhase;
}

/**
 * One "student" phase of PGD-style min–max training: setup resolves the inner attack by name (under
 * the ε warm-up) and builds the optimiser; subclasses supply the per-batch step. The student and teacher belong to
 * the caller; `dispose` releases the optimiser's state only.
 */
export abstract class AdversarialTrainingMethod<P extends AdversarialTrainingSettings> implements DistillationMethod {
  abstract readonly name: string;
  abstract readonly teacher: 'required' | 'optional' | 'none';
  private prepared?: PreparedRun;

  protected constructor(protected readonly values: P) {}

  /** Checks the setup (e.g. that a teacher is present); throws a typed error when it is not usable. */
  protected abstract check(setup: MethodSetup): void;

  protected abstract trainStep(batch: TrainingBatch, step: StepContext, run: PreparedRun): Promise<StepResult>;

  /** Whether x′ comes from the attack named by `innerAttack` (else the subclass crafts it, e.g. TRADES' KL PGD). */
  protected namedInnerAttack(): boolean {
    return true;
  }

  /** Whether the inner attack sees the student in training mode (`net.train()`); default no. */
  protected attackInTrainingMode(): boolean {
    return false;
  }

  setup(setup: MethodSetup): void {
    this.check(setup);
    const batches = batchesPerEpoch(setup.train.size, setup.batchSize);
    const inner = this.namedInnerAttack()
      ? new ScheduledInnerAttack(setup.container, { ...this.values, innerAttack: this.values.innerAttack ?? 'pgd' }, batches, this.attackInTrainingMode())
      : undefined;
    const schedule = inner?.schedule ?? new EpsilonSchedule(this.values, batches);
    const optimizer = createOptimizer({ name: this.values.optimizer, learningRate: this.values.learningRate }, `${this.name}.optimizer`);
    const phase: TrainingPhase = {
      name: 'student',
      model: setup.student,
      epochs: this.values.epochs,
      optimizer,
      trainStep: (batch, step) => this.trainStep(batch, step, this.ready()),
    };
    this.prepared?.optimizer.dispose();
    this.prepared = { student: setup.student, teacher: setup.teacher, inner, schedule, optimizer, phase };
  }

  protected ready(): PreparedRun {
    if (!this.prepared) throw new ConfigError(`${this.name}.setup`, 'call setup() before training');
    return this.prepared;
  }

  phases(): readonly TrainingPhase[] {
    return [this.ready().phase];
  }

  result(): Student {
    return this.ready().student;
  }

  params(): Record<string, unknown> {
    return { ...(this.values as AdversarialTrainingSettings as unknown as Record<string, unknown>) };
  }

  dispose(): void {
    this.prepared?.optimizer.dispose();
    this.prepared = undefined;
  }
}
