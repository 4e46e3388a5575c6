#!/usr/bin/env node
// `npm run bench -w @tempered/wasm-train [-- --backend wasm --batch 128 --iterations 10 --profile --stock --json]`
import './index.js';
import { benchPapernotCnn, type BenchResult } from './bench.js';
import { unregisterWasmTrainingKernels } from './register_all_kernels.js';
import { torchReference } from './torch-reference.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const backend = option('backend', 'wasm') as 'wasm' | 'cpu' | 'tensorflow';
const batch = Number(option('batch', '128'));
const iterations = Number(option('iterations', '10'));
const warmup = Number(option('warmup', '2'));
// --stock measures tfjs-backend-wasm as shipped (it cannot train conv nets: train step is skipped).
if (flag('stock')) unregisterWasmTrainingKernels();

const result: BenchResult & { torch?: Record<string, number | string> } = await benchPapernotCnn({
  backend,
  batch,
  iterations,
  warmup,
  profile: flag('profile'),
  pgd: flag('pgd'),
  skipTrainStep: flag('stock'),
});
const torch = flag('no-torch') ? null : torchReference({ batch, iterations, warmup });
const rows: Array<[string, number, number | undefined]> = [
  ['train step', result.trainStepMs, torch?.trainStepMs],
  ['forward', result.forwardMs, torch?.forwardMs],
  ['input gradient', result.inputGradMs, torch?.inputGradMs],
];
console.log(`Papernot MNIST CNN, batch ${batch}, backend ${backend}${flag('stock') ? ' (stock kernels)' : ''}, median of ${iterations}`);
console.log(`${'measure'.padEnd(16)}${'tfjs ms'.padStart(10)}${'torch ms'.padStart(10)}${'ratio'.padStart(8)}`);
for (const [name, ours, theirs] of rows) {
  const ratio = theirs ? (ours / theirs).toFixed(2) : '-';
  console.log(`${name.padEnd(16)}${ours.toFixed(1).padStart(10)}${(theirs?.toFixed(1) ?? '-').padStart(10)}${ratio.padStart(8)}`);
}
if (result.pgd40ImagesPerSec !== undefined) console.log(`PGD-40: ${result.pgd40ImagesPerSec.toFixed(1)} images/s`);
if (result.profile) {
  for (const [phase, kernels] of Object.entries(result.profile)) {
    console.log(`${phase} per-kernel ms: ${Object.entries(kernels).filter(([, ms]) => ms >= 0.5).map(([k, ms]) => `${k} ${ms}`).join(', ')}`);
  }
}
if (torch) {
  result.torch = {
    torchVersion: torch.torchVersion,
    trainStepMs: torch.trainStepMs,
    forwardMs: torch.forwardMs,
    inputGradMs: torch.inputGradMs,
    trainStepRatio: result.trainStepMs / torch.trainStepMs,
    forwardRatio: result.forwardMs / torch.forwardMs,
    inputGradRatio: result.inputGradMs / torch.inputGradMs,
  };
}
if (flag('json')) console.log(JSON.stringify(result));
