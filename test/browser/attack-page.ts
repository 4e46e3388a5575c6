// The page of the browser attack spec: tfjs on the wasm backend with @tempered/wasm-train's
// kernels (or webgl), a Tempered model loaded over HTTP, and the shared attack suite.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tempered/wasm-train';
import { runAttackSuite } from './attack-suite.js';

setWasmPaths('/wasm/');

async function run(backend: string, modelUrl: string, pixels: number[], labels: number[], inputShape: number[]) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available in this browser`);
  await tf.ready();
  const before = tf.memory().numTensors;
  const model = await tf.loadLayersModel(modelUrl);
  try {
    return { ...(await runAttackSuite(model, pixels, labels, inputShape)), leaked: tf.memory().numTensors - before - model.weights.length };
  } finally {
    model.dispose();
  }
}

async function hasBackend(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

(globalThis as unknown as { tempered: unknown }).tempered = { run, hasBackend };
document.body.dataset.ready = 'yes';
