import type { DependencyContainer } from 'tsyringe';
import type { BackendPreference, Dataset, Model } from '@tempered/core';
import { fixedBatches, type AttackBatchOutput, type AttackJob, type ExampleSlice } from './attack-batches.js';
import { EvaluationPool, serializeModel } from './pool.js';

export interface SpeedupOptions {
  readonly model: Model;
  readonly test: Dataset;
  /** Examples attacked (the first N of the split). Default 200. */
  readonly examples?: number;
  /** Registered attack name and params; default PGD-40 (`{ steps: 40 }`). */
  readonly attack?: { readonly name: string; readonly params?: Record<string, unknown> };
  readonly batchSize?: number;
  readonly plugins: readonly string[];
  readonly backend?: BackendPreference;
  readonly seed?: number;
  /** Unused by the timing itself; kept so callers can pass their run container uniformly. */
  readonly container?: DependencyContainer;
}

export interface SpeedupResult {
  readonly examples: number;
  readonly oneWorkerMs: number;
  readonly twoWorkersMs: number;
  /** oneWorkerMs / twoWorkersMs (target ≥ 1.7 on two cores). */
  readonly speedup: number;
  /** The two runs produced bit-identical adversarial examples. */
  readonly identical: boolean;
  readonly backend: string;
}

function sameOutputs(a: readonly AttackBatchOutput[], b: readonly AttackBatchOutput[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((o, i) => o.adversarial.length === b[i]!.adversarial.length && o.adversarial.every((v, j) => v === b[i]!.adversarial[j]));
}

/**
 * Times one attack (default PGD-40) over a fixed set with 1 worker, then with 2 workers, and
 * returns the speed-up. Workers start (and load the model) before the clock starts, so the
 * ratio measures the attack work only.
 */
export async function benchEvaluationSpeedup(options: SpeedupOptions): Promise<SpeedupResult> {
  const count = Math.min(options.examples ?? 200, options.test.size);
  const { x, labels } = options.test.batch(Int32Array.from({ length: count }, (_, i) => i));
  const slice: ExampleSlice = {
    start: 0,
    x: Float32Array.from(x.dataSync()),
    labels: Int32Array.from(labels.dataSync()),
    inputShape: options.test.inputShape,
    numClasses: options.test.numClasses,
  };
  x.dispose();
  labels.dispose();
  const attack = options.attack ?? { name: 'pgd', params: { steps: 40 } };
  const job: AttackJob = { key: 'bench', name: attack.name, params: attack.params ?? {}, mode: 'untargeted', seed: options.seed ?? 0, modelName: options.model.name };
  const batches = fixedBatches(count, options.batchSize ?? 25);
  const serialized = await serializeModel(options.model);
  const time = async (workers: number) => {
    const pool = await EvaluationPool.start({ workers, plugins: options.plugins, backend: options.backend ?? 'auto' });
    try {
      // Warm-up: load the model and compile kernels on every worker outside the timing.
      await pool.attack('bench', serialized, { ...job, params: { ...job.params } }, slice, fixedBatches(Math.min(count, workers), 1));
      const started = performance.now();
      const outputs = await pool.attack('bench', serialized, job, slice, batches);
      return { ms: performance.now() - started, outputs, backend: pool.backend.name };
    } finally {
      await pool.close();
    }
  };
  const one = await time(1);
  const two = await time(2);
  return {
    examples: count,
    oneWorkerMs: one.ms,
    twoWorkersMs: two.ms,
    speedup: one.ms / two.ms,
    identical: sameOutputs(one.outputs, two.outputs),
    backend: one.backend,
  };
}
