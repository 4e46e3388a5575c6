import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, type BackendPreference, type InputBounds, type Model } from '@tempered/core';
import { weightBytes } from '@tempered/core/node';
import { splitContiguous, type AttackBatchOutput, type AttackJob, type BatchRange, type ExampleSlice } from './attack-batches.js';

/** A model in the tfjs layers format, in memory (model.json's topology + one weights buffer). */
export interface SerializedModel {
  readonly name: string;
  readonly bounds: InputBounds;
  readonly modelTopology: object;
  readonly weightSpecs: tf.io.WeightsManifestEntry[];
  readonly weightData: ArrayBuffer;
}

/** Messages parent → worker. */
export type WorkerRequest =
  | { readonly type: 'init'; readonly plugins: readonly string[]; readonly backend: BackendPreference }
  | { readonly type: 'model'; readonly id: number; readonly modelId: string; readonly model: SerializedModel }
  | {
      readonly type: 'attack';
      readonly id: number;
      readonly modelId: string;
      readonly job: AttackJob;
      readonly slice: ExampleSlice;
      readonly batches: readonly BatchRange[];
    };

/** Messages worker → parent. */
export type WorkerResponse =
  | { readonly type: 'ready'; readonly backend: string; readonly source: string }
  | { readonly type: 'done'; readonly id: number; readonly outputs?: AttackBatchOutput[] }
  | { readonly type: 'error'; readonly id?: number; readonly message: string };

/** Serialises a tfjs-layers-backed model to in-memory layers-format artifacts for a worker. */
export async function serializeModel(model: Model): Promise<SerializedModel> {
  if (typeof model.toLayersModel !== 'function') {
    throw new ConfigError('workers', `model "${model.name}" is not a tfjs layers model; evaluate it with workers: 0`);
  }
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.toLayersModel().save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.modelTopology || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new ConfigError('workers', `model "${model.name}" did not serialise to a JSON topology`);
  }
  return {
    name: model.name,
    bounds: model.bounds,
    modelTopology: artifacts.modelTopology,
    weightSpecs: artifacts.weightSpecs ?? [],
    weightData: weightBytes((artifacts.weightData ?? new ArrayBuffer(0)) as ArrayBuffer | ArrayBuffer[]).buffer as ArrayBuffer,
  };
}

/**
 * The worker entry: `dist/worker.js` (built JS, so it runs under plain node). From the sources
 * (specs under vitest) the built file beside `src` is used; it must have been built.
 */
export function workerEntry(): URL {
  for (const candidate of ['./worker.js', '../dist/worker.js']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  throw new ConfigError('workers', 'the evaluation worker needs the built package; run `npx tsc -b packages/evaluation` first');
}

interface Pending {
  resolve(value: AttackBatchOutput[] | undefined): void;
  reject(error: Error): void;
}

class PoolWorker {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  backend = '';
  source = '';
  private readonly loaded = new Set<string>();

  private constructor(readonly worker: Worker) {
    worker.on('message', (message: WorkerResponse) => {
      if (message.type === 'ready') return;
      const id = message.id ?? -1;
      const pending = this.pending.get(id);
      if (!pending) return;
      this.pending.delete(id);
      if (message.type === 'error') pending.reject(new Error(message.message));
      else pending.resolve(message.outputs);
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`evaluation worker exited with code ${code}`)));
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  static async start(plugins: readonly string[], backend: BackendPreference): Promise<PoolWorker> {
    const worker = new Worker(workerEntry());
    const ready = await new Promise<WorkerResponse>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ type: 'init', plugins, backend } satisfies WorkerRequest);
    });
    if (ready.type === 'error') {
      await worker.terminate();
      throw new Error(`evaluation worker failed to start: ${ready.message}`);
    }
    const poolWorker = new PoolWorker(worker);
    if (ready.type === 'ready') {
      poolWorker.backend = ready.backend;
      poolWorker.source = ready.source;
    }
    return poolWorker;
  }

  private request(message: WorkerRequest & { id: number }, transfer: ArrayBuffer[] = []): Promise<AttackBatchOutput[] | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  async ensureModel(modelId: string, model: SerializedModel): Promise<void> {
    if (this.loaded.has(modelId)) return;
    await this.request({ type: 'model', id: this.nextId++, modelId, model });
    this.loaded.add(modelId);
  }

  async attack(modelId: string, job: AttackJob, slice: ExampleSlice, batches: readonly BatchRange[]): Promise<AttackBatchOutput[]> {
    return (await this.request({ type: 'attack', id: this.nextId++, modelId, job, slice, batches })) ?? [];
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

export interface PoolOptions {
  /** Worker threads (each with its own backend and copy of the weights). */
  readonly workers: number;
  /** Module specifiers whose `register(container)` each worker calls, e.g. ['@tempered/attacks']. */
  readonly plugins: readonly string[];
  /** Backend each worker selects (core's selectBackend). Default 'auto'. */
  readonly backend?: BackendPreference;
}

/**
 * A pool of worker threads that attack contiguous shares of fixed batches and return them in
 * order, so the merged result does not depend on the number of workers.
 */
export class EvaluationPool {
  private constructor(private readonly workers: PoolWorker[]) {}

  static async start(options: PoolOptions): Promise<EvaluationPool> {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new ConfigError('workers', `expected a positive integer, got ${options.workers}`);
    }
    const started = await Promise.allSettled(
      Array.from({ length: options.workers }, () => PoolWorker.start(options.plugins, options.backend ?? 'auto')),
    );
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      await Promise.all(workers.map((w) => w.close()));
      throw failure.reason;
    }
    return new EvaluationPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Backend the workers run on (e.g. "cpu", "wasm"). */
  get backend(): { name: string; source: string } {
    return { name: this.workers[0]?.backend ?? '', source: this.workers[0]?.source ?? '' };
  }

  /** Attacks `batches` split into contiguous shares, one per worker; outputs in batch order. */
  async attack(
    modelId: string,
    model: SerializedModel,
    job: AttackJob,
    slice: ExampleSlice,
    batches: readonly BatchRange[],
  ): Promise<AttackBatchOutput[]> {
    const shares = splitContiguous(batches, this.workers.length);
    const featureSize = slice.inputShape.reduce((a, b) => a * b, 1);
    const results = await Promise.all(
      shares.map(async (share, w) => {
        const worker = this.workers[w]!;
        await worker.ensureModel(modelId, model);
        const first = share[0]!.start;
        const last = share[share.length - 1]!;
        const end = last.start + last.count;
        const part: ExampleSlice = {
          ...slice,
          start: first,
          x: slice.x.slice((first - slice.start) * featureSize, (end - slice.start) * featureSize),
          labels: slice.labels.slice(first - slice.start, end - slice.start),
        };
        return worker.attack(modelId, job, part, share);
      }),
    );
    return results.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
