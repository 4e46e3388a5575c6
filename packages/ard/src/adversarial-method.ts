import type * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  createOptimizer,
  type Attack,
  type DistillationMethod,
  type MethodSetup,
  type StepContext,
  type StepResult,
  type Student,
  type Teacher,
  type TrainingBatch,
  type TrainingPhase,
} from '@tempered/core';
import { createInnerAttack, type InnerMaxSettings } from './inner-maximization.js';

/** Settings every adversarial-training method of this package has. */
export interface AdversarialTrainingSettings extends InnerMaxSettings {
  readonly epochs: number;
  readonly optimizer: 'adam' | 'sgd' | 'momentum';
  readonly learningRate: number;
}

/** What a prepared method trains with. */
export interface PreparedRun {
  readonly student: Student;
  readonly teacher?: Teacher;
  readonly attack: Attack;
  readonly optimizer: tf.Optimizer;
  readonly phase: TrainingPhase;
}

/**
 * One "student" phase of PGD-style min–max training: setup resolves the inner attack by name and
 * builds the optimiser; subclasses supply the per-batch step. The student and teacher belong to
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

  setup(setup: MethodSetup): void {
    this.check(setup);
    const attack = createInnerAttack(setup.container, this.values);
    const optimizer = createOptimizer({ name: this.values.optimizer, learningRate: this.values.learningRate }, `${this.name}.optimizer`);
    const phase: TrainingPhase = {
      name: 'student',
      model: setup.student,
      epochs: this.values.epochs,
      optimizer,
      trainStep: (batch, step) => this.trainStep(batch, step, this.ready()),
    };
    this.prepared?.optimizer.dispose();
    this.prepared = { student: setup.student, teacher: setup.teacher, attack, optimizer, phase };
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
