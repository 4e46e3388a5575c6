/** Spec-only: one training step of a method on a fixed batch, and an identity attack plugin. */
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { Rng, TOKENS, registerPlugin, type Attack, type Dataset, type TrainingMethod, type StepResult, type Student, type Teacher } from '@tempered/core';

/**
 * Sets `method` up on `student` and runs its first phase's step once on the first `size`
 * examples of `data` (epoch 0, batch 0, rng seeded with `seed`). The loss and terms are those
 * of the weights before the update, so two methods on identically initialised students compare.
 */
export async function firstStep(
  method: TrainingMethod,
  options: { container: DependencyContainer; data: Dataset; student: Student; teacher?: Teacher; size?: number; seed?: number },
): Promise<StepResult> {
  const size = options.size ?? 50;
  await method.setup({
    student: options.student,
    teacher: options.teacher,
    createModel: () => options.student,
    train: options.data,
    batchSize: size,
    seed: 1,
    container: options.container,
  });
  const batch = options.data.batch(Int32Array.from({ length: size }, (_, i) => i));
  try {
    return await method.phases()[0]!.trainStep(batch, { phase: 'student', epoch: 0, batch: 0, step: 0, rng: new Rng(options.seed ?? 5) });
  } finally {
    batch.x.dispose();
    batch.labels.dispose();
  }
}

/** Registers 'identity', an attack that returns x unchanged (x′ = x). */
export function registerIdentityAttack(container: DependencyContainer): void {
  const identity: Attack = {
    name: 'identity',
    norm: 'linf',
    epsilon: 0,
    supportedModes: ['untargeted'],
    requires: [],
    generate: async (_model, x) => x.clone(),
    run: async (_model, x) => ({ adversarial: x.clone(), iterations: new Int32Array(x.shape[0]!) }),
    params: () => ({}),
    setParams: () => {},
  };
  registerPlugin(container, TOKENS.Attack, { name: 'identity', params: {}, create: () => identity });
}

/** Batch-mean T²·KL(softmax(t/T) ‖ softmax(s/T)), computed from scratch for the specs. */
export function referenceKl(teacherLogits: tf.Tensor2D, studentLogits: tf.Tensor2D, temperature: number): number {
  return tf.tidy(() => {
    const p = tf.softmax(tf.div(teacherLogits, temperature));
    const logP = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const logQ = tf.logSoftmax(tf.div(studentLogits, temperature));
    return tf.mean(tf.sum(tf.mul(p, tf.sub(logP, logQ)), 1)).mul(temperature * temperature).dataSync()[0]!;
  });
}
