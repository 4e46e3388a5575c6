/** Spec-only helpers: a run container with attacks registered, and a Trainer run that records epochs. */
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { Trainer, type Dataset, type TrainingMethod, type Student, type Teacher } from '@tempered/core';
import { register as registerAttacks } from '@tempered/attacks';
import { mlpStudent } from './mnist.js';

/** A child container for one spec with the real @tempered/attacks registered (inner 'pgd'). */
export function attackContainer(): DependencyContainer {
  const container = rootContainer.createChildContainer();
  registerAttacks(container);
  return container;
}

export interface EpochRecord {
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
  readonly numTensors: number;
  readonly accuracy?: number;
}

/** Sets the method up on a fresh student and trains it with core's Trainer. */
export async function trainMethod(
  method: TrainingMethod,
  options: { container: DependencyContainer; train: Dataset; teacher?: Teacher; student: Student; seed?: number; batchSize?: number },
): Promise<EpochRecord[]> {
  const seed = options.seed ?? 1;
  const batchSize = options.batchSize ?? 50;
  await method.setup({
    student: options.student,
    teacher: options.teacher,
    createModel: (name) => mlpStudent(name, seed),
    train: options.train,
    batchSize,
    seed,
    container: options.container,
  });
  const epochs: EpochRecord[] = [];
  const trainer = new Trainer().on('epoch:end', (event) => {
    epochs.push({ loss: event.loss, terms: event.terms, numTensors: event.numTensors, accuracy: event.accuracy });
  });
  await trainer.run(method, { model: method.name, train: options.train, batchSize, seed });
  return epochs;
}

/** Flat copy of a model's weights, for determinism checks. */
export function weightValues(model: { getWeights(): tf.Tensor[] }): Float32Array[] {
  return model.getWeights().map((w) => {
    const values = w.dataSync() as Float32Array;
    w.dispose();
    return Float32Array.from(values);
  });
}
