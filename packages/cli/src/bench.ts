import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { ConfigError, TOKENS, createPlugin, median, selectBackend, type BackendPreference, type DatasetSource, type ModelArchitecture, type Student } from '@tempered/core/node';
import { benchPapernotCnn, torchReference, winogradPath } from '@tempered/wasm-train/node';
import { attackIterationCosts, autoattackThroughput, perIteration, pgdThroughput, type IterationTimings } from '@tempered/attacks';
import { benchEvaluationSpeedup } from '@tempered/evaluation/node';
import { registerBuiltins, BUILTIN_MODULES } from './plugins.js';
import { torchAttackCosts } from './torch-attacks.js';

export type BenchValues = Record<string, string | boolean | undefined>;

function positiveInt(field: string, value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(field, `expected an integer ≥ 1, got "${value}"`);
  return n;
}

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

type Measure = 'trainStep' | 'forward' | 'inputGrad';

/** Input shapes for `--zoo`: the conv models of @tempered/models at their usual datasets. */
const ZOO_INPUTS: Record<string, number[]> = {
  'papernot-mnist': [28, 28, 1],
  'papernot-cifar': [32, 32, 3],
  'resnet-small': [32, 32, 3],
  'mobilenet-v2-small': [32, 32, 3],
};

/**
 * Median Adam train step (batch 64, random data) of a zoo model, best of `rounds`. With `compare`, the
 * rounds alternate between the Winograd path and the XNNPACK paths, so both see the same machine load.
 */
function zooTrainStep(
  model: Student, inputShape: number[], iterations: number, rounds: number, compare: boolean,
): { trainStepMs: number; withoutWinogradMs?: number } {
  const x = tf.randomUniform([64, ...inputShape], 0, 1, 'float32', 1);
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([64], 0, 10, 'int32', 2), 10));
  const optimizer = tf.train.adam(1e-3);
  const variables = model.trainableVariables();
  const step = () =>
    tf.tidy(() => void optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.logits(x, { training: true })), false, variables));
  const best = { on: Infinity, off: Infinity };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of compare ? (['auto', 'never'] as const) : (['auto'] as const)) {
        winogradPath.mode = mode;
        step();
        const times: number[] = [];
        for (let i = 0; i < iterations; i++) {
          const start = performance.now();
          step();
          times.push(performance.now() - start);
        }
        const key = mode === 'auto' ? 'on' : 'off';
        best[key] = Math.min(best[key], median(times));
      }
    }
  } finally {
    winogradPath.mode = 'auto';
    tf.dispose([x, y]);
    optimizer.dispose();
  }
  return compare ? { trainStepMs: best.on, withoutWinogradMs: best.off } : { trainStepMs: best.on };
}
const MEASURES: readonly Measure[] = ['trainStep', 'forward', 'inputGrad'];

type AttackPart = 'apgd' | 'fab' | 'square';
const ATTACK_PARTS: readonly AttackPart[] = ['apgd', 'fab', 'square'];
const ATTACK_LABELS: Record<AttackPart, string> = { apgd: 'APGD-CE iteration', fab: 'FAB-T iteration', square: 'Square query' };

/**
 * One APGD-CE iteration, one FAB-T iteration and one Square query (L∞, ε = 0.3) on the Papernot MNIST
 * CNN at `batch`: runs of `iterations` and 2 × `iterations` steps, (fastest long − fastest short) /
 * iterations over `rounds`, in wall and process CPU time. With `torch`, each round also times the
 * same loops in PyTorch (one thread) on the same weights and batch, so both see the same load.
 */
async function benchAttackIterations(
  arch: ModelArchitecture, batch: number, iterations: number, rounds: number, torch: boolean, say: (s: string) => void,
): Promise<Record<string, unknown>> {
  const model = arch.build({ name: 'bench', inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 7);
  const logits = tf.tidy(() => model.logits(x, { training: false }));
  const y = tf.tidy(() => tf.argMax(logits, 1).toInt() as tf.Tensor1D);
  const ours: Record<AttackPart, IterationTimings[]> = { apgd: [], fab: [], square: [] };
  const theirs: Record<AttackPart, IterationTimings[]> = { apgd: [], fab: [], square: [] };
  let torchInfo: { torchVersion: string; maxLogitDifference: number } | undefined;
  let torchMissing = false;
  const cpuClock = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  try {
    const inputs = {
      weights: model.trainableVariables().map((v) => ({ shape: v.shape, values: v.dataSync() as Float32Array })),
      x: x.dataSync() as Float32Array,
      labels: y.dataSync() as Int32Array,
      logits: logits.dataSync() as Float32Array,
      batch,
      epsilon: 0.3,
      iterations,
    };
    for (let round = 0; round < rounds; round++) {
      const costs = await attackIterationCosts(model, x, y, { iterations, epsilon: 0.3, cpuClock });
      for (const part of ATTACK_PARTS) ours[part].push(costs.timings[part]);
      if (torch && !torchMissing) {
        const reference = torchAttackCosts(inputs);
        if (!reference) {
          torchMissing = true;
          continue;
        }
        torchInfo = { torchVersion: reference.torchVersion, maxLogitDifference: reference.maxLogitDifference };
        for (const part of ATTACK_PARTS) theirs[part].push(reference[part]);
      }
    }
  } finally {
    tf.dispose([x, logits, y]);
    model.dispose();
  }
  const figures = (timings: Record<AttackPart, IterationTimings[]>) =>
    Object.fromEntries(ATTACK_PARTS.map((part) => [part, perIteration(timings[part], iterations)])) as Record<AttackPart, { wallMs: number; cpuMs: number }>;
  const mine = figures(ours);
  const list = (f: Record<AttackPart, { wallMs: number; cpuMs: number }>) =>
    ATTACK_PARTS.map((part) => `${ATTACK_LABELS[part]} ${fmt(f[part].wallMs)} (CPU ${fmt(f[part].cpuMs)})`).join(', ');
  say(`attack iterations, Papernot MNIST CNN, batch ${batch}, L∞ ε = 0.3 (${rounds} rounds of ${iterations} and ${2 * iterations} steps): ${list(mine)}`);
  const out: Record<string, unknown> = { batch, rounds, iterations, ...mine };
  if (torch && torchInfo) {
    const reference = figures(theirs);
    const ratios = Object.fromEntries(ATTACK_PARTS.map((part) => [part, { wall: mine[part].wallMs / reference[part].wallMs, cpu: mine[part].cpuMs / reference[part].cpuMs }]));
    out.torch = { ...torchInfo, ...reference, ratios };
    say(`PyTorch ${torchInfo.torchVersion} CPU (1 thread), same weights and batch (max |Δlogit| ${torchInfo.maxLogitDifference.toExponential(1)}): ${list(reference)}`);
    say(`ratio ${tf.getBackend()}/torch: ${ATTACK_PARTS.map((part) => `${ATTACK_LABELS[part]} ${ratios[part]!.wall.toFixed(2)}× wall, ${ratios[part]!.cpu.toFixed(2)}× CPU`).join('; ')}`);
  } else if (torch) {
    say('PyTorch reference: python3 with torch not found (apt-get install python3-torch); skipped');
  }
  return out;
}

/**
 * `tempered bench`: the Papernot MNIST CNN at batch 128 (train step with SGD + momentum, forward,
 * input gradient), PGD-40 L∞ and AutoAttack (standard) throughput through @tempered/attacks, and the 2-worker evaluation
 * speed-up. Figures are medians of one run; ratios are what to compare on a shared machine.
 */
export async function benchCommand(values: BenchValues, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const backendName = (values.backend as string | undefined) ?? 'wasm';
  if (!['wasm', 'cpu', 'tensorflow'].includes(backendName)) {
    throw new ConfigError('--backend', `expected wasm, cpu or tensorflow, got "${backendName}"`);
  }
  const batch = positiveInt('--batch', values.batch, 128);
  const iterations = positiveInt('--iterations', values.iterations, 10);
  const rounds = positiveInt('--rounds', values.rounds, 3);
  const skip = new Set(String(values.skip ?? '').split(',').filter(Boolean));
  for (const part of skip) if (!['model', 'attacks', 'pgd', 'autoattack', 'workers'].includes(part)) throw new ConfigError('--skip', `unknown part "${part}"; expected model, attacks, pgd, autoattack or workers`);
  const zoo = values.zoo === undefined ? [] : String(values.zoo).split(',').filter(Boolean);
  for (const name of zoo) if (!(name in ZOO_INPUTS)) throw new ConfigError('--zoo', `unknown model "${name}"; expected ${Object.keys(ZOO_INPUTS).join(', ')}`);
  const info = await selectBackend(backendName as BackendPreference);
  const winograd = !values['no-winograd'];
  winogradPath.mode = winograd ? 'auto' : 'never';
  const report: Record<string, unknown> = { backend: info.name, backendSource: info.source, batch, winograd };
  const say = values.json ? (s: string) => io.err(s) : io.out;
  say(`backend: ${info.name} (${info.source})${info.name === 'wasm' && !winograd ? ', Winograd off' : ''}`);

  if (!skip.has('model')) {
    // Best of `rounds` medians, alternating with PyTorch when asked, so both see the same load on
    // a shared machine and the first round's warm-up (JIT, wasm memory growth) does not count.
    const best: Record<Measure, number> = { trainStep: Infinity, forward: Infinity, inputGrad: Infinity };
    const bestTorch: Record<Measure, number> = { trainStep: Infinity, forward: Infinity, inputGrad: Infinity };
    let torchVersion: string | undefined;
    for (let round = 0; round < rounds; round++) {
      const r = await benchPapernotCnn({ backend: info.name as 'wasm' | 'cpu' | 'tensorflow', batch, iterations });
      for (const m of MEASURES) best[m] = Math.min(best[m], r[`${m}Ms`]);
      if (values.torch) {
        const torch = torchReference({ batch, iterations });
        if (!torch) break;
        torchVersion = torch.torchVersion;
        for (const m of MEASURES) bestTorch[m] = Math.min(bestTorch[m], torch[`${m}Ms`]);
      }
    }
    Object.assign(report, { trainStepMs: best.trainStep, forwardMs: best.forward, inputGradMs: best.inputGrad, rounds });
    say(`Papernot MNIST CNN, batch ${batch} (best of ${rounds} medians of ${iterations}): train step ${fmt(best.trainStep)}, forward ${fmt(best.forward)}, input gradient ${fmt(best.inputGrad)}`);
    if (values.torch) {
      if (torchVersion) {
        const ratios = { trainStep: best.trainStep / bestTorch.trainStep, forward: best.forward / bestTorch.forward, inputGrad: best.inputGrad / bestTorch.inputGrad };
        report.torch = { torchVersion, trainStepMs: bestTorch.trainStep, forwardMs: bestTorch.forward, inputGradMs: bestTorch.inputGrad, ratios };
        say(`PyTorch ${torchVersion} CPU (1 thread): train step ${fmt(bestTorch.trainStep)}, forward ${fmt(bestTorch.forward)}, input gradient ${fmt(bestTorch.inputGrad)}`);
        say(`ratio ${info.name}/torch: train step ${ratios.trainStep.toFixed(2)}×, forward ${ratios.forward.toFixed(2)}×, input gradient ${ratios.inputGrad.toFixed(2)}×`);
      } else {
        say('PyTorch reference: python3 with torch not found (apt-get install python3-torch); skipped');
      }
    }
  }

  const container = rootContainer.createChildContainer();
  registerBuiltins(container);
  const arch = createPlugin(container, TOKENS.Model, 'papernot-mnist') as ModelArchitecture;
  if (!skip.has('attacks')) {
    report.attackIterations = await benchAttackIterations(arch, batch, iterations, rounds, Boolean(values.torch), say);
  }
  if (!skip.has('pgd')) {
    const model = arch.build({ name: 'bench', inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const pgd = await pgdThroughput(model, { batch: Math.min(batch, 64), steps: 40, repeats: 1 });
    report.pgd40ImagesPerSec = pgd.imagesPerSecond;
    say(`PGD-40 L∞ (@tempered/attacks): ${pgd.imagesPerSecond.toFixed(1)} images/s`);
    model.dispose();
  }
  if (!skip.has('autoattack')) {
    const model = arch.build({ name: 'bench', inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const aa = await autoattackThroughput(model, { batch: Math.min(batch, 32) });
    report.autoattack = aa;
    say(
      `AutoAttack standard L∞ ε = 0.3 (@tempered/attacks): ${aa.imagesPerSecond.toFixed(1)} images/s on the untrained CNN (${(aa.robustFraction * 100).toFixed(0)} % left robust; ran ${aa.ran.join(', ')}); ` +
        `${aa.worstCaseImagesPerSecond.toFixed(2)} images/s when every image stays robust (APGD iteration ${fmt(aa.apgdIterationMs)}, FAB-T iteration ${fmt(aa.fabIterationMs)}, Square query ${fmt(aa.squareQueryMs)} per batch of ${aa.batch})`,
    );
    model.dispose();
  }
  if (!skip.has('workers')) {
    const mnist = createPlugin(container, TOKENS.Dataset, 'mnist') as DatasetSource;
    const { test } = await mnist.load();
    const model = arch.build({ name: 'bench', inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const speedup = await benchEvaluationSpeedup({ model, test, plugins: BUILTIN_MODULES, backend: info.name as BackendPreference });
    model.dispose();
    report.evaluationSpeedup = speedup;
    say(
      `evaluation, PGD-40 on ${speedup.examples} images: 1 worker ${(speedup.oneWorkerMs / 1000).toFixed(1)} s, 2 workers ${(speedup.twoWorkersMs / 1000).toFixed(1)} s, speed-up ${speedup.speedup.toFixed(2)}× (identical results: ${speedup.identical})`,
    );
  }
  if (zoo.length > 0) {
    const steps: Record<string, { trainStepMs: number; withoutWinogradMs?: number }> = {};
    for (const name of zoo) {
      const model = createPlugin(container, TOKENS.Model, name) as ModelArchitecture;
      const student = model.build({ name, inputShape: ZOO_INPUTS[name]!, numClasses: 10, seed: 1 });
      const ms = zooTrainStep(student, ZOO_INPUTS[name]!, iterations, rounds, info.name === 'wasm' && winograd);
      student.dispose();
      steps[name] = ms;
      const without = ms.withoutWinogradMs === undefined ? '' : `, ${fmt(ms.withoutWinogradMs)} with --no-winograd (${(ms.withoutWinogradMs / ms.trainStepMs).toFixed(2)}×)`;
      say(`${name}: Adam train step at batch 64 ${fmt(ms.trainStepMs)}${without}`);
    }
    report.zoo = steps;
  }
  report.numTensors = tf.memory().numTensors;
  if (values.json) io.out(JSON.stringify(report));
  return 0;
}
