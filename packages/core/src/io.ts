import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ModelError } from './errors.js';
import { writeFileAtomic } from './fs.js';

/**
 * Model I/O in the standard TensorFlow.js layers format (`model.json` + `weights.bin`) over
 * node:fs, without tfjs-node. What we write loads unchanged with tfjs-node's
 * `tf.loadLayersModel('file://…/model.json')`; what tfjs or tfjs-converter writes (one or
 * several weight shards) loads here.
 */

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

function toUint8(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
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
      const weights = artifacts.weightData ? toUint8(artifacts.weightData as ArrayBuffer | ArrayBuffer[]) : new Uint8Array(0);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
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

/** An IOHandler that loads `model.json` (a path to it, or its directory) and its weight shards. */
export function fileLoadHandler(path: string): tf.io.IOHandler {
  const jsonPath = path.endsWith('.json') ? resolve(path) : resolve(path, MODEL_JSON);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!existsSync(jsonPath)) throw new ModelError(`${jsonPath}: model.json not found`);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(readFileSync(jsonPath, 'utf8')) as tf.io.ModelJSON;
      } catch {
        throw new ModelError(`${jsonPath}: not valid JSON; expected a TensorFlow.js model.json`);
      }
      if (!modelJson.modelTopology) throw new ModelError(`${jsonPath}: no modelTopology; expected a TensorFlow.js layers model`);
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of modelJson.weightsManifest ?? []) {
        weightSpecs.push(...group.weights);
        for (const shard of group.paths) {
          const shardPath = resolve(dirname(jsonPath), shard);
          if (!existsSync(shardPath)) throw new ModelError(`${shardPath}: weight file listed in model.json is missing`);
          buffers.push(readFileSync(shardPath));
        }
      }
      const weightData = toUint8(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
      const expected = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * bytesPerElement(w), 0);
      if (weightData.byteLength !== expected) {
        throw new ModelError(`${jsonPath}: weights are ${weightData.byteLength} bytes but the manifest describes ${expected}`);
      }
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        trainingConfig: modelJson.trainingConfig,
        userDefinedMetadata: modelJson.userDefinedMetadata,
        weightSpecs,
        weightData: weightData.buffer as ArrayBuffer,
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
