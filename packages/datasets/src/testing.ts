import type { Dataset } from '@tempered/core';
import { loadEmbeddedMnist } from './mnist.js';

/**
 * Spec fixtures (imported from `@tempered/datasets/testing`): disjoint real-digit sets from the embedded
 * MNIST split (near class-balanced, fixed order): 200 training digits for a student, the next 100 for a
 * spec teacher (`trainTeacher` in `@tempered/core/testing`), and 300 held-out test digits.
 *
 * @example
 * ```ts
 * import { mnistTiny } from '@tempered/datasets/testing';
 * import { trainTeacher, mlpStudent, accuracy } from '@tempered/core/testing';
 * const { train, teacherTrain, heldOut } = mnistTiny();
 * const teacher = trainTeacher(teacherTrain);
 * ```
 */
export function mnistTiny(): { train: Dataset; teacherTrain: Dataset; heldOut: Dataset } {
  const { train, test } = loadEmbeddedMnist({ trainSize: 500, testSize: 300 });
  return { train: train.slice(0, 200), teacherTrain: train.slice(200, 300), heldOut: test };
}
