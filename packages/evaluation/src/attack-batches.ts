import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, createPlugin, deriveSeed, yieldToEventLoop, type Attack, type AttackMode, type Model } from '@tempered/core';
import { allOtherTargets } from '@tempered/attacks';

/**
 * The unit of parallel work: one attack over a contiguous run of fixed batches. It is a plain
 * function over plain arrays so the same code runs in-process and inside a worker thread.
 */

/** One configured attack run. */
export interface AttackJob {
  /** Key in results (e.g. "pgd", "pgd-margin", "sweep-pgd-0.3"). */
  readonly key: string;
  /** Registered attack name. */
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly mode: AttackMode;
  /** Run seed; each batch's attack seed derives from it, the model name, the key and the batch start. */
  readonly seed: number;
  readonly modelName: string;
}

/** Examples as flat arrays: `x` is [count × featureSize], positions are `start … start + count − 1`. */
export interface ExampleSlice {
  readonly start: number;
  readonly x: Float32Array;
  readonly labels: Int32Array;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
}

/** A fixed batch in global example positions: batches never depend on how work is split. */
export interface BatchRange {
  readonly start: number;
  readonly count: number;
}

/** Adversarial rows of one batch. Targeted "every other class" runs have K − 1 rows per example. */
export interface AttackBatchOutput {
  readonly start: number;
  /** Example position of each row. */
  readonly indices: Int32Array;
  readonly labels: Int32Array;
  readonly targets?: Int32Array;
  readonly adversarial: Float32Array;
  readonly iterations: Int32Array;
  /** Ensembles: per row, the component attack that first broke it (null: robust), as the attack reported it. */
  readonly brokenBy?: readonly (string | null)[];
  /** Ensembles: the component attacks that ran on this batch, in order. */
  readonly ran?: readonly string[];
}

/** Contiguous batches of `batchSize` over positions [0, total). */
export function fixedBatches(total: number, batchSize: number): BatchRange[] {
  const out: BatchRange[] = [];
  for (let start = 0; start < total; start += batchSize) out.push({ start, count: Math.min(batchSize, total - start) });
  return out;
}

/** Splits batches into `parts` contiguous shares of near-equal example counts (order kept). */
export function splitContiguous(batches: readonly BatchRange[], parts: number): BatchRange[][] {
  const total = batches.reduce((n, b) => n + b.count, 0);
  const shares: BatchRange[][] = Array.from({ length: parts }, () => []);
  let done = 0;
  for (const batch of batches) {
    const share = Math.min(parts - 1, Math.floor((done * parts) / Math.max(total, 1)));
    shares[share]!.push(batch);
    done += batch.count;
  }
  return shares.filter((s) => s.length > 0);
}

/** Creates the attack of a job (parameters validated by the attack itself). */
export function createJobAttack(container: DependencyContainer, job: AttackJob): Attack {
  const attack = createPlugin(container, TOKENS.Attack, job.name, job.params);
  if (!attack.supportedModes.includes(job.mode)) {
    throw new Error(`attack "${job.name}" does not support mode "${job.mode}" (supports ${attack.supportedModes.join(', ')})`);
  }
  return attack;
}

/** Runs `job` over `batches` (whose examples lie in `slice`), in order. */
export async function runAttackBatches(
  model: Model,
  container: DependencyContainer,
  job: AttackJob,
  slice: ExampleSlice,
  batches: readonly BatchRange[],
): Promise<AttackBatchOutput[]> {
  const attack = createJobAttack(container, job);
  const featureSize = slice.inputShape.reduce((a, b) => a * b, 1);
  const outputs: AttackBatchOutput[] = [];
  for (const batch of batches) {
    // Lets SIGINT/SIGTERM handlers run between attack batches of an in-process evaluation.
    await yieldToEventLoop();
    const offset = batch.start - slice.start;
    const labels = slice.labels.slice(offset, offset + batch.count);
    let rows: Int32Array = Int32Array.from({ length: batch.count }, (_, i) => i);
    let targets: Int32Array | undefined = undefined;
    // Papernot et al.'s "every other class": every (example, target ≠ label) pair, example-major.
    if (job.mode === 'targeted') ({ examples: rows, targets } = allOtherTargets(labels, slice.numClasses));
    const pixels = new Float32Array(rows.length * featureSize);
    for (let r = 0; r < rows.length; r++) {
      const from = (offset + rows[r]!) * featureSize;
      pixels.set(slice.x.subarray(from, from + featureSize), r * featureSize);
    }
    const rowLabels = Int32Array.from(rows, (i) => labels[i]!);
    const x = tf.tensor(pixels, [rows.length, ...slice.inputShape], 'float32');
    const y = tf.tensor1d(rowLabels, 'int32');
    const targetTensor = targets ? tf.tensor1d(targets, 'int32') : undefined;
    try {
      const result = await attack.run(model, x, y, {
        mode: job.mode,
        ...(targetTensor ? { targets: targetTensor } : {}),
        seed: deriveSeed(job.seed, job.modelName, job.key, batch.start),
      });
      const adversarial = (await result.adversarial.data()) as Float32Array;
      result.adversarial.dispose();
      outputs.push({
        start: batch.start,
        indices: Int32Array.from(rows, (i) => batch.start + i),
        labels: rowLabels,
        ...(targets ? { targets } : {}),
        adversarial: Float32Array.from(adversarial),
        iterations: Int32Array.from(result.iterations),
        ...(result.brokenBy ? { brokenBy: [...result.brokenBy] } : {}),
        ...(result.ran ? { ran: [...result.ran] } : {}),
      });
    } finally {
      x.dispose();
      y.dispose();
      targetTensor?.dispose();
    }
  }
  return outputs;
}
