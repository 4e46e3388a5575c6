import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLayersModel, saveLayersModel, verifyModelFiles } from './io.js';
import { sha256Hex } from './fs.js';
import { LayersTeacher } from './model.js';
import { ModelError } from './errors.js';
import { expectNoLeaks } from './testing.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function convNet(seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 6, activation: 'relu', name: 'features', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
    ],
  });
}

function weightBytes(model: tf.LayersModel): Uint8Array[] {
  return model.getWeights().map((w) => new Uint8Array((w.dataSync() as Float32Array).slice().buffer));
}

/** tfjs's own HTTP loader over local files: the stock code path for `model.json` + shards. */
function stockLoader(dir: string): tf.io.IOHandler {
  const fetchFunc = async (url: string) => {
    const path = join(dir, new URL(url).pathname.replace(/^\/models\//, ''));
    const body = readFileSync(path);
    return new Response(body, { status: 200, headers: { 'content-type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  };
  return tf.io.http('http://localhost/models/model.json', { fetchFunc });
}

describe('model I/O (tfjs layers format over node:fs)', () => {
  it('round-trips a conv/pool/dense Sequential with bit-identical weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-io-'));
    const model = convNet(3);
    await saveLayersModel(model, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const loaded = await loadLayersModel(dir);
    expect(weightBytes(loaded)).toEqual(weightBytes(model));
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 5);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });

  it('writes files that the stock tfjs loader reads unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-io-'));
    const model = convNet(4);
    await saveLayersModel(model, dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
    const loaded = await tf.loadLayersModel(stockLoader(dir));
    expect(weightBytes(loaded)).toEqual(weightBytes(model));
    model.dispose();
    loaded.dispose();
  });

  it('loads a model written by tfjs in several weight shards (as tfjs-converter does) as a Teacher', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-io-'));
    const model = convNet(5);
    // Capture tfjs's own artifacts and lay them out as the converter does: group1-shard{i}of{n}.bin.
    let artifacts!: tf.io.ModelArtifacts;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
    const cut = Math.floor(data.byteLength / 2);
    writeFileSync(join(dir, 'group1-shard1of2.bin'), data.subarray(0, cut));
    writeFileSync(join(dir, 'group1-shard2of2.bin'), data.subarray(cut));
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({
        format: 'layers-model',
        generatedBy: 'keras v2.13.1',
        convertedBy: 'TensorFlow.js Converter v4.22.0',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs }],
      }),
    );
    const loaded = await loadLayersModel(join(dir, 'model.json'));
    expect(weightBytes(loaded)).toEqual(weightBytes(model));
    const teacher = new LayersTeacher(loaded, { name: 'keras-teacher' });
    expect(teacher.numClasses).toBe(3);
    expect(teacher.inputShape).toEqual([8, 8, 1]);
    expect(teacher.hasFeatures).toBe(true);
    expect(teacher.trainableVariables()).toEqual([]);
    await expectNoLeaks(() => {
      const x = tf.zeros([2, 8, 8, 1]);
      const out = teacher.forward(x);
      expect(out.logits.shape).toEqual([2, 3]);
      expect(out.features!.shape).toEqual([2, 6]);
      tf.dispose([x, out.logits, out.features!]);
    });
    model.dispose();
    loaded.dispose();
  });

  it('refuses a model directory with missing or short weights, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-io-'));
    const model = convNet(6);
    await saveLayersModel(model, dir);
    const weights = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), weights.subarray(0, 100));
    await expect(loadLayersModel(dir)).rejects.toThrow(/weights are 100 bytes but the manifest describes \d+/);
    rmSync(join(dir, 'weights.bin'));
    await expect(loadLayersModel(dir)).rejects.toThrow(ModelError);
    await expect(loadLayersModel(dir)).rejects.toThrow(/weights\.bin: weight file listed in model\.json is missing/);
    await expect(loadLayersModel(join(dir, 'nowhere'))).rejects.toThrow(/model\.json not found/);
    model.dispose();
  });

  it('records the weights\' SHA-256 and refuses damaged, NaN-filled or truncated model files naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-io-'));
    const model = convNet(7);
    await saveLayersModel(model, dir);
    model.dispose();
    const jsonPath = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { weightsSha256: string; weightsManifest: Array<{ weights: Array<{ name: string }> }> };
    const weights = readFileSync(join(dir, 'weights.bin'));
    expect(json.weightsSha256).toBe(sha256Hex(weights));
    expect(() => verifyModelFiles(dir)).not.toThrow();
    // The same size, other bytes (the probe's zero-filled file).
    writeFileSync(join(dir, 'weights.bin'), Buffer.alloc(weights.byteLength));
    await expect(loadLayersModel(dir)).rejects.toThrow(/weights\.bin: checksum mismatch/);
    // NaN weights are refused before any use, even where no checksum was recorded (a model from elsewhere).
    const nan = Buffer.from(weights);
    nan.writeFloatLE(Number.NaN, 0);
    writeFileSync(join(dir, 'weights.bin'), nan);
    const { weightsSha256: _sum, ...unsummed } = json;
    writeFileSync(jsonPath, JSON.stringify(unsummed));
    await expect(loadLayersModel(dir)).rejects.toThrow(new RegExp(`model\\.json: weight ${json.weightsManifest[0]!.weights[0]!.name} holds NaN or Inf`));
    // A truncated model.json (as the explorer would have served it).
    writeFileSync(join(dir, 'weights.bin'), weights);
    writeFileSync(jsonPath, JSON.stringify(json).slice(0, 200));
    expect(() => verifyModelFiles(dir)).toThrow(/model\.json: not valid JSON \(truncated\?\)/);
    rmSync(dir, { recursive: true, force: true });
  });
});
