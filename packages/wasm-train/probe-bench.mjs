import * as tf from '@tensorflow/tfjs';
const stock = process.argv.includes('--stock');
const mod = await import('/work/main/packages/wasm-train/dist/index.js');
if (stock) mod.unregisterWasmTrainingKernels();
const { benchPapernotCnn } = await import('/work/main/packages/wasm-train/dist/bench.js');
const r = await benchPapernotCnn({ backend: 'wasm', batch: Number(process.env.BATCH ?? 128), iterations: Number(process.env.IT ?? 5), warmup: 1, profile: true });
console.log(JSON.stringify(r, null, 1));
