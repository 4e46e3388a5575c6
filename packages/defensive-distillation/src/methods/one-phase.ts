import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@tempered/core';
import type { DistillationMethod, MethodSetup, ParamSpecs, Student, TrainingPhase } from '@tempered/core';
import { Parameterised } from '../parameterised.js';

/**
 * What the one-phase methods of this package (`standard`, `kd`) share: a student trained by one
 * optimiser in one phase named "student", and who releases what on `dispose`.
 */
export abstract class OnePhaseMethod<S extends ParamSpecs> extends Parameterised<S> implements DistillationMethod {
  abstract readonly teacher: 'required' | 'optional' | 'none';
  protected student: Student | undefined;
  protected optimizer: tf.Optimizer | undefined;
  protected phaseList: TrainingPhase[] = [];

  abstract setup(setup: MethodSetup): void;

  phases(): readonly TrainingPhase[] {
    return this.phaseList;
  }

  result(): Student {
    if (!this.student) throw new ConfigError(this.name, 'result() called before setup()');
    return this.student;
  }

  dispose(): void {
    this.release();
  }

  /** Frees the optimiser; the student (and any run teacher) belong to the caller. */
  protected release(): void {
    this.optimizer?.dispose();
    this.optimizer = undefined;
    this.student = undefined;
    this.phaseList = [];
  }
}
