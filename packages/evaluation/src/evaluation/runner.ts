import * as tf from '@tensorflow/tfjs';
import type { Model } from '@tempered/core';
import { runAttackBatches, type AttackBatchOutput, type AttackJob, type BatchRange, type ExampleSlice } from '../attack-batches.js';
import { EvaluationPool, serializeModel, type SerializedModel } from '../pool.js';
import type { EvaluationOptions } from './options.js';

/** A model as the runner knows it: a stable id for the workers and its serialised weights, once. */
export interface ModelEntry {
  readonly id: string;
  readonly model: Model;
  serialized?: SerializedModel;
}

/** Runs attack jobs, in-process or on a worker pool; results always in batch order. */
export interface AttackRunner {
  run(entry: ModelEntry, job: AttackJob, slice: ExampleSlice, batches: readonly BatchRange[]): Promise<AttackBatchOutput[]>;
  readonly backend: { name: string; source: string; workers: number };
  close(): Promise<void>;
}

export async function createRunner(options: EvaluationOptions): Promise<AttackRunner> {
  const workers = options.workers ?? 0;
  if (workers === 0) {
    return {
      run: (entry, job, slice, batches) => runAttackBatches(entry.model, options.container, job, slice, batches),
      backend: { name: tf.getBackend(), source: 'in-process', workers: 0 },
      close: async () => {},
    };
  }
  const pool = await EvaluationPool.start({ workers, plugins: options.plugins ?? [], backend: options.backend ?? 'auto' });
  return {
    async run(entry, job, slice, batches) {
      entry.serialized ??= await serializeModel(entry.model);
      return pool.attack(entry.id, entry.serialized, job, slice, batches);
    },
    backend: { ...pool.backend, workers },
    close: () => pool.close(),
  };
}
