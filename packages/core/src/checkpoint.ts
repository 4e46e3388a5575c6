import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from './errors.js';
import { epochTotalsProblem, type EpochTotals } from './epoch-totals.js';
import type { TrainerPosition } from './events.js';
import { removeStaleTemporaries, sha256Hex, writeFileAtomic, writeJsonAtomic } from './fs.js';
import type { TrainingMethod, Model } from './types.js';

/**
 * Checkpoints: every phase model's weights, the current phase's optimiser state, the method's
 * extra state and the trainer position (which, with the run seed, is the whole RNG state:
 * shuffles and per-step streams derive from seed + position). Written as `ckpt-<n>.bin` then
 * `latest.json` (the commit point), both atomically, so a kill at any moment leaves the previous
 * checkpoint intact. The manifest carries the SHA-256 of the data file, checked before anything
 * is restored, and, for a mid-epoch checkpoint, the epoch's running metric sums.
 */

const LATEST = 'latest.json';
/** 2: `sha256` of the data file and `epochTotals` (format 1 had neither). */
export const CHECKPOINT_FORMAT = 2;


export interface TensorEntry {
  readonly key: string;
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
  readonly offset: number;
  readonly length: number;
}

export interface CheckpointManifest {
  readonly format: number;
  readonly model: string;
  readonly method: string;
  readonly seed: number;
  readonly position: TrainerPosition;
  readonly data: string;
  /** SHA-256 (hex) of the data file. */
  readonly sha256: string;
  readonly tensors: TensorEntry[];
  /** A mid-epoch checkpoint: the epoch's running metric sums up to `position.batch`. */
  readonly epochTotals?: EpochTotals;
  readonly createdAt: string;
}

// The optimiser's state beyond getWeights(): Adam recomputes β-powers with pow() on setWeights,
// which differs from the running product in the last bits and would break bit-identical resume.
const OPTIMIZER_EXTRA_VARIABLES = ['accBeta1', 'accBeta2'] as const;

function uniqueModels(method: TrainingMethod): Model[] {
  const models: Model[] = [];
  for (const phase of method.phases()) if (!models.includes(phase.model)) models.push(phase.model);
  return models;
}

function currentOptimizer(method: TrainingMethod, position: TrainerPosition): tf.Optimizer | undefined {
  const phases = method.phases();
  return phases[Math.min(position.phase, phases.length - 1)]?.optimizer;
}

/** Writes a checkpoint of `method` at `position` into `dir`; returns the manifest path. */
export async function saveCheckpoint(
  dir: string,
  run: { model: string; seed: number },
  method: TrainingMethod,
  position: TrainerPosition,
  epochTotals?: EpochTotals,
): Promise<string> {
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const add = (key: string, tensor: tf.Tensor): void => {
    const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
    const values = tensor.dtype === 'int32' || tensor.dtype === 'float32' ? tensor.dataSync() : tf.tidy(() => tf.cast(tensor, 'float32').dataSync());
    const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    entries.push({ key, shape: tensor.shape, dtype, offset, length: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
  };

  uniqueModels(method).forEach((model, m) => {
    const weights = model.getWeights();
    weights.forEach((w, i) => add(`model/${m}/${i}`, w));
    tf.dispose(weights);
  });
  const optimizer = currentOptimizer(method, position);
  if (optimizer) {
    const named = await optimizer.getWeights();
    named.forEach((w, i) => add(`optimizer/${i}`, w.tensor));
    // getWeights() hands out the live accumulators; only the iteration counter is a fresh tensor.
    named.filter((w) => w.name === 'iter').forEach((w) => w.tensor.dispose());
    const extras = optimizer as unknown as Record<string, tf.Variable | undefined>;
    for (const name of OPTIMIZER_EXTRA_VARIABLES) if (extras[name]) add(`optimizerExtra/${name}`, extras[name]!);
  }
  const state = method.state?.() ?? {};
  for (const [key, tensor] of Object.entries(state)) add(`method/${key}`, tensor);
  tf.dispose(Object.values(state));

  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  const previous = readLatest(dir);
  const sequence = previous ? Number(/ckpt-(\d+)/.exec(previous.data)?.[1] ?? 0) + 1 : 0;
  const dataFile = `ckpt-${String(sequence).padStart(6, '0')}.bin`;
  writeFileAtomic(join(dir, dataFile), data);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    model: run.model,
    method: method.name,
    seed: run.seed,
    position,
    data: dataFile,
    sha256: sha256Hex(data),
    tensors: entries,
    ...(epochTotals ? { epochTotals } : {}),
    createdAt: new Date().toISOString(),
  };
  writeJsonAtomic(join(dir, LATEST), manifest);
  // A process killed mid-write leaves its temporary file; ours are all renamed by now.
  removeStaleTemporaries(dir);
  // Older data files are garbage once latest.json points past them.
  for (const file of readdirSync(dir)) {
    if (/^ckpt-\d+\.bin$/.test(file) && file !== dataFile) rmSync(join(dir, file), { force: true });
  }
  return join(dir, LATEST);
}

const isInteger = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

/** The first problem of a parsed manifest, as "field: expected …", or undefined. */
function manifestProblem(m: Record<string, unknown>): string | undefined {
  if (m.format !== CHECKPOINT_FORMAT) return `format: expected ${CHECKPOINT_FORMAT}, got ${JSON.stringify(m.format)} (written by another Tempered version)`;
  for (const key of ['model', 'method'] as const) if (typeof m[key] !== 'string') return `${key}: expected a string`;
  if (typeof m.seed !== 'number') return 'seed: expected a number';
  const p = m.position as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null) return 'position: expected { phase, epoch, batch, step }';
  for (const key of ['phase', 'epoch', 'batch', 'step'] as const) if (!isInteger(p[key])) return `position.${key}: expected an integer ≥ 0`;
  if (typeof m.data !== 'string' || !/^ckpt-\d+\.bin$/.test(m.data)) return 'data: expected the data file name ckpt-<n>.bin';
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) return 'sha256: expected the data file\'s SHA-256 (64 hex digits)';
  if (!Array.isArray(m.tensors)) return 'tensors: expected an array';
  for (const [i, e] of (m.tensors as Array<Record<string, unknown>>).entries()) {
    if (typeof e !== 'object' || e === null || typeof e.key !== 'string' || !Array.isArray(e.shape) || (e.dtype !== 'float32' && e.dtype !== 'int32') || !isInteger(e.offset) || !isInteger(e.length)) {
      return `tensors[${i}]: expected { key, shape, dtype, offset, length }`;
    }
  }
  if (m.epochTotals !== undefined) {
    const problem = epochTotalsProblem(m.epochTotals);
    if (problem) return `epochTotals.${problem}`;
  }
  return undefined;
}

function readLatest(dir: string): CheckpointManifest | undefined {
  const path = join(dir, LATEST);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ModelError(`${path}: checkpoint manifest is not valid JSON; the checkpoint is damaged (rerun with --force to start over)`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ModelError(`${path}: checkpoint manifest is not an object`);
  const problem = manifestProblem(parsed as Record<string, unknown>);
  if (problem) throw new ModelError(`${path}: ${problem}; the checkpoint is damaged (rerun with --force to start over)`);
  return parsed as CheckpointManifest;
}

/** True when `dir` holds a checkpoint. */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, LATEST));
}

/** The checkpoint manifest in `dir`, if any. */
export function readCheckpointManifest(dir: string): CheckpointManifest | undefined {
  return readLatest(dir);
}

/**
 * Restores `method` (already set up, as for a fresh run) from the checkpoint in `dir` and
 * returns the position to resume from; undefined when there is no checkpoint.
 */
export async function loadCheckpoint(dir: string, method: TrainingMethod): Promise<TrainerPosition | undefined> {
  const manifest = readLatest(dir);
  if (!manifest) return undefined;
  const dataPath = join(dir, manifest.data);
  if (!existsSync(dataPath)) throw new ModelError(`${dataPath}: checkpoint data missing`);
  if (manifest.method !== method.name) {
    throw new ModelError(`${join(dir, LATEST)}: checkpoint is for method "${manifest.method}", not "${method.name}"`);
  }
  const bytes = readFileSync(dataPath);
  if (sha256Hex(bytes) !== manifest.sha256) {
    throw new ModelError(`${dataPath}: checksum mismatch (its SHA-256 is not the one recorded in ${LATEST}); the checkpoint is damaged: rerun with --force to start over`);
  }
  const tensorOf = (e: TensorEntry): tf.Tensor => {
    if (e.offset + e.length > bytes.byteLength) throw new ModelError(`${dataPath}: truncated checkpoint data`);
    const slice = bytes.buffer.slice(bytes.byteOffset + e.offset, bytes.byteOffset + e.offset + e.length);
    const values = e.dtype === 'int32' ? new Int32Array(slice) : new Float32Array(slice);
    return tf.tensor(values, e.shape, e.dtype);
  };
  const byPrefix = (prefix: string): TensorEntry[] => manifest.tensors.filter((e) => e.key.startsWith(prefix));

  uniqueModels(method).forEach((model, m) => {
    const entries = byPrefix(`model/${m}/`);
    const current = model.getWeights();
    const expected = current.length;
    tf.dispose(current);
    for (const e of entries) {
      if (e.dtype !== 'float32' || e.offset + e.length > bytes.byteLength) continue;
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + e.offset, bytes.byteOffset + e.offset + e.length));
      if (!values.every(Number.isFinite)) throw new ModelError(`${dataPath}: weight ${e.key} holds NaN or Inf; the checkpoint cannot be resumed`);
    }
    const weights = entries.map(tensorOf);
    if (weights.length !== expected) {
      tf.dispose(weights);
      throw new ModelError(`${dataPath}: checkpoint has ${weights.length} weights for model ${m}, expected another architecture`);
    }
    model.setWeights(weights);
    tf.dispose(weights);
  });
  const optimizer = currentOptimizer(method, manifest.position);
  const optimizerEntries = byPrefix('optimizer/');
  if (optimizer && optimizerEntries.length > 0) {
    const named = optimizerEntries.map((e, i) => ({ name: i === 0 ? 'iter' : `w${i}`, tensor: tensorOf(e) }));
    // setWeights replaces the live accumulators without disposing them: release them ourselves.
    const replaced = await optimizer.getWeights();
    await optimizer.setWeights(named);
    tf.dispose(replaced.map((w) => w.tensor));
    tf.dispose(named.map((n) => n.tensor));
    const extras = optimizer as unknown as Record<string, tf.Variable | undefined>;
    for (const name of OPTIMIZER_EXTRA_VARIABLES) {
      const entry = manifest.tensors.find((e) => e.key === `optimizerExtra/${name}`);
      if (entry && extras[name]) {
        const value = tensorOf(entry);
        extras[name]!.assign(value);
        value.dispose();
      }
    }
  }
  const methodEntries = byPrefix('method/');
  if (methodEntries.length > 0) {
    const state: Record<string, tf.Tensor> = {};
    for (const e of methodEntries) state[e.key.slice('method/'.length)] = tensorOf(e);
    method.loadState?.(state);
    tf.dispose(Object.values(state));
  }
  return manifest.position;
}
