import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ModelError } from './errors.js';
import { sha256Hex, writeFileAtomic } from './fs.js';

/**
 * Model I/O in the standard TensorFlow.js layers format (`model.json` + `weights.bin`) over
 * node:fs, without tfjs-node. What we write loads unchanged with tfjs-node's
 * `tf.loadLayersModel('file://…/model.json')`; what tfjs or tfjs-converter writes (one or
 * several weight shards) loads here.
 *
 * Integrity: what we save records the SHA-256 of its weight bytes in model.json
 * (`weightsSha256`, a key tfjs ignores); loading checks it when present, checks the weight
 * file's size against the manifest, and refuses NaN or Inf in float32 weights, so a damaged or
 * diverged model is never evaluated, served or distilled from.
 */

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/** A model's weight data (one buffer, or a shard per buffer) as one byte array, shards in order. */
export function weightBytes(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data);
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

/** An IOHandler that saves to `dir/model.json` + `dir/weights.bin`, each written atomically. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new ModelError(`${dir}: binary model topologies are not supported; expected a layers model`);
      }
      const weights = artifacts.weightData ? weightBytes(artifacts.weightData as ArrayBuffer | ArrayBuffer[]) : new Uint8Array(0);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        weightsSha256: sha256Hex(weights),
      };
      // Weights first: a model.json on disk always points at complete weights.
      writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },
  };
}

/** model.json as read from disk: what the loader needs, checked (see {@link readModelFiles}). */
interface ModelFiles {
  readonly jsonPath: string;
  readonly modelJson: tf.io.ModelJSON & { weightsSha256?: unknown };
  readonly weightSpecs: tf.io.WeightsManifestEntry[];
  readonly weightData: Uint8Array;
}

/**
 * Reads and checks a layers model's files: model.json parses and has a topology and a weights
 * manifest, every listed weight file exists, their bytes are the size the manifest describes
 * and match the recorded SHA-256 (when recorded), and no float32 weight is NaN or Inf. Every
 * refusal is one line naming the file.
 */
function readModelFiles(path: string): ModelFiles {
  const jsonPath = path.endsWith('.json') ? resolve(path) : resolve(path, MODEL_JSON);
  if (!existsSync(jsonPath)) throw new ModelError(`${jsonPath}: model.json not found`);
  let modelJson: ModelFiles['modelJson'];
  try {
    modelJson = JSON.parse(readFileSync(jsonPath, 'utf8')) as ModelFiles['modelJson'];
  } catch {
    throw new ModelError(`${jsonPath}: not valid JSON (truncated?); expected a TensorFlow.js model.json`);
  }
  if (typeof modelJson !== 'object' || modelJson === null || !modelJson.modelTopology) throw new ModelError(`${jsonPath}: no modelTopology; expected a TensorFlow.js layers model`);
  if (modelJson.weightsManifest !== undefined && !Array.isArray(modelJson.weightsManifest)) throw new ModelError(`${jsonPath}: weightsManifest: expected an array of { paths, weights }`);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const [g, group] of (modelJson.weightsManifest ?? []).entries()) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) throw new ModelError(`${jsonPath}: weightsManifest[${g}]: expected { paths, weights }`);
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) {
      const shardPath = resolve(dirname(jsonPath), shard);
      if (!existsSync(shardPath)) throw new ModelError(`${shardPath}: weight file listed in model.json is missing`);
      buffers.push(readFileSync(shardPath));
    }
  }
  const weightData = weightBytes(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
  const expected = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * bytesPerElement(w), 0);
  if (weightData.byteLength !== expected) {
    throw new ModelError(`${jsonPath}: weights are ${weightData.byteLength} bytes but the manifest describes ${expected}`);
  }
  const weightFiles = (modelJson.weightsManifest ?? []).flatMap((g) => g.paths).join(', ');
  if (modelJson.weightsSha256 !== undefined && modelJson.weightsSha256 !== sha256Hex(weightData)) {
    throw new ModelError(`${resolve(dirname(jsonPath), weightFiles)}: checksum mismatch (its SHA-256 is not the weightsSha256 recorded in model.json); the model is damaged`);
  }
  let offset = 0;
  for (const spec of weightSpecs) {
    const size = spec.shape.reduce((a, b) => a * b, 1) * bytesPerElement(spec);
    if (spec.dtype === 'float32' && !spec.quantization) {
      const values = new Float32Array(weightData.buffer.slice(weightData.byteOffset + offset, weightData.byteOffset + offset + size));
      if (!values.every(Number.isFinite)) throw new ModelError(`${jsonPath}: weight ${spec.name} holds NaN or Inf; refusing to use a diverged model`);
    }
    offset += size;
  }
  return { jsonPath, modelJson, weightSpecs, weightData };
}

/** Checks a saved model's files (see the integrity notes above) without building the model; throws a one-line ModelError naming the file. */
export function verifyModelFiles(path: string): void {
  readModelFiles(path);
}

/** An IOHandler that loads `model.json` (a path to it, or its directory) and its weight shards, checked as {@link verifyModelFiles} does. */
export function fileLoadHandler(path: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const { modelJson, weightSpecs, weightData } = readModelFiles(path);
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        trainingConfig: modelJson.trainingConfig,
        userDefinedMetadata: modelJson.userDefinedMetadata,
        weightSpecs,
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer,
      };
    },
  };
}

function bytesPerElement(spec: tf.io.WeightsManifestEntry): number {
  if (spec.quantization) return spec.quantization.dtype === 'uint8' ? 1 : spec.quantization.dtype === 'float16' ? 2 : 2;
  return spec.dtype === 'bool' ? 1 : 4;
}

/** Saves a layers model to `dir` (model.json + weights.bin, atomically). */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSaveHandler(dir));
}

/** Loads a layers model from a directory or a model.json path. */
export async function loadLayersModel(path: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileLoadHandler(path));
}
