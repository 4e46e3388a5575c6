import * as tf from '@tensorflow/tfjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArrayDataset,
  asTeacher,
  TOKENS,
  createOptimizer,
  crossEntropy,
  getPlugin,
  listPlugins,
  optimizeStep,
  selectBackend,
  Rng,
  type ModelArchitecture,
  type ParamSpecs,
  type Student,
} from '@tempered/core';
import { register as registerAttacks } from '@tempered/attacks';
import { register as registerModels } from '@tempered/models';
import { register as registerBaselines } from '@tempered/baselines';
import { register as registerDefensiveDistillation } from '@tempered/defensive-distillation';
import { register as registerArd } from '@tempered/ard';
import { register as registerCrdnd } from '@tempered/crdnd';
import { register as registerRobustDistillation } from '@tempered/robust-distillation';
import { auditKernelCall, KernelRecorder, KNOWN_WASM_DIFFERENCES, type Disagreement, type KernelCall } from '@tempered/wasm-train/audit';

/**
 * The differential audit of issue 13: every kernel this project dispatches on wasm gives the cpu
 * backend's result, forward and through its gradient, on recorded, random, tied and edge values.
 *
 * The kernel list is recorded, not kept: one training step and every registered attack (in every mode
 * it supports; PGD in both norms and both losses) of every registered model architecture, and a training
 * step of every registered method, run on wasm under tfjs's profiler. A plugin that brings a new kernel
 * is audited by registering it.
 */

const BATCH = 4;
const NUM_CLASSES = 10;
const SHAPES: number[][] = [
  [28, 28, 1],
  [32, 32, 3],
];

let scope: DependencyContainer;
let previous: string;
let recording: { calls: KernelCall[]; profiledKernels: string[] };
const recorder = new KernelRecorder();

/** Cheap versions of a plugin's parameters: iteration-like integers down to 2, widths down. */
function cheapParams(specs: ParamSpecs | undefined): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs ?? {})) {
    const s = spec as { type: string; default?: unknown; min?: number; integer?: boolean; values?: readonly string[] };
    // An ensemble whose standard version fixes its budgets (AutoAttack) runs its custom version, cheaply.
    if (name === 'version' && s.values?.includes('custom')) params[name] = 'custom';
    if (s.type !== 'number' || typeof s.default !== 'number') continue;
    if (/steps|iter|queries|restarts|epochs|sweeps|warmup/i.test(name) && s.default > 2) params[name] = Math.max(s.min ?? 1, 2);
    if (/widthMultiplier/.test(name)) params[name] = 0.25;
    if (name === 'gamma') params[name] = 0.02;
    if (name === 'depth') params[name] = 8;
    // A term that starts at a later epoch (IAD's introspection) starts at once, so its kernels run too.
    if (/Epoch$/.test(name)) params[name] = s.min ?? 0;
  }
  return params;
}

function batchOf(shape: number[], seed: number): { x: tf.Tensor; y: tf.Tensor1D } {
  const x = tf.randomUniform([BATCH, ...shape], 0, 1, 'float32', seed);
  const y = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => (i * 3 + seed) % NUM_CLASSES), 'int32');
  return { x, y };
}

function buildModel(name: string, shape: number[], seed: number): Student | null {
  const descriptor = getPlugin(scope, TOKENS.Model, name);
  const builder = descriptor.create(cheapParams(descriptor.params), scope) as ModelArchitecture;
  try {
    return builder.build({ name: `${name}-${shape.join('x')}-${seed}`, inputShape: shape, numClasses: NUM_CLASSES, seed });
  } catch {
    return null; // an architecture that does not take this input shape
  }
}

/** Every registered attack, in every mode it supports, with cheap parameters; PGD in both norms and both losses. */
async function attackEverything(model: Student, x: tf.Tensor, y: tf.Tensor1D): Promise<void> {
  for (const name of listPlugins(scope, TOKENS.Attack)) {
    const descriptor = getPlugin(scope, TOKENS.Attack, name);
    const base = cheapParams(descriptor.params);
    const variants: Record<string, unknown>[] = [base];
    const specs = (descriptor.params ?? {}) as Record<string, { values?: readonly string[] }>;
    for (const key of ['norm', 'loss'] as const) {
      const values = specs[key]?.values ?? [];
      for (const value of values.slice(1)) variants.push({ ...base, [key]: value });
    }
    for (const params of variants) {
      const attack = descriptor.create(params, scope);
      for (const mode of attack.supportedModes) {
        const targets = mode === 'targeted' ? tf.tensor1d(Array.from(y.dataSync(), (c) => (c + 1) % NUM_CLASSES), 'int32') : undefined;
        await recorder.run(async () => tf.dispose(await attack.generate(model, x, y, { mode, targets, seed: 3 })));
        targets?.dispose();
      }
    }
  }
}

/** One Adam step on cross-entropy (training mode) and every attack, for every architecture and shape. */
async function zooWorkload(): Promise<void> {
  for (const name of listPlugins(scope, TOKENS.Model)) {
    for (const shape of SHAPES) {
      const model = buildModel(name, shape, 5);
      if (model === null) continue;
      const { x, y } = batchOf(shape, 1);
      const optimizer = createOptimizer({ name: 'adam', learningRate: 1e-3 });
      await recorder.run(() =>
        optimizeStep(optimizer, model.trainableVariables(), () => {
          const logits = model.logits(x, { training: true });
          return { loss: crossEntropy(logits, y), logits, labels: y };
        }),
      );
      await attackEverything(model, x, y);
      optimizer.dispose();
      tf.dispose([x, y]);
      model.dispose();
    }
  }
}

/**
 * One training step of every phase of every registered method, on the smallest conv model of the
 * zoo; then `standard` once with every other optimiser of core, weight decay and a per-step schedule
 * on (their updates bring their own kernels).
 */
async function methodWorkload(): Promise<void> {
  const shape = SHAPES[0]!;
  const rng = new Rng(11);
  const images = Float32Array.from({ length: 2 * BATCH * 784 }, () => rng.uniform(0, 1));
  const labels = Int32Array.from({ length: 2 * BATCH }, (_, i) => i % NUM_CLASSES);
  const train = new ArrayDataset('audit', images, labels, shape, NUM_CLASSES);
  const runs = [
    ...listPlugins(scope, TOKENS.Method).map((name) => ({ name, extra: {} })),
    ...['sgd', 'momentum', 'nesterov', 'adamw', 'adam'].map((optimizer) => ({
      name: 'standard',
      extra: { optimizer: { name: optimizer, learningRate: 0.01, weightDecay: 5e-4 }, schedule: { name: 'cosine', interval: 'step', warmupEpochs: 1 } },
    })),
  ];
  for (const { name, extra } of runs) {
    const descriptor = getPlugin(scope, TOKENS.Method, name);
    const method = descriptor.create({ ...cheapParams(descriptor.params), ...extra }, scope);
    const teacherModel = buildModel('papernot-mnist', shape, 7)!;
    const teacher = asTeacher(teacherModel);
    const student = buildModel('papernot-mnist', shape, 8)!;
    await method.setup({
      student,
      teacher: method.teacher === 'none' ? undefined : teacher,
      // A method with teacher roles (mtard, iad-ii) gets the one teacher in every role it declares.
      ...(method.teacherRoles ? { teachers: Object.fromEntries(Object.keys(method.teacherRoles).map((role) => [role, teacher])) } : {}),
      createModel: (modelName) => buildModel('papernot-mnist', shape, modelName.length)!,
      train,
      batchSize: BATCH,
      seed: 1,
      container: scope,
    });
    for (const phase of method.phases()) {
      await phase.beforePhase?.({ train, batchSize: BATCH, seed: 1 });
      const batch = train.batch([0, 1, 2, 3]);
      const step = { phase: phase.name, epoch: 0, batch: 0, step: 0, rng: new Rng(2) };
      await recorder.run(() => phase.trainStep({ x: batch.x, labels: batch.labels, indices: Int32Array.from([0, 1, 2, 3]) }, step));
      tf.dispose([batch.x, batch.labels]);
    }
    method.dispose();
    teacherModel.dispose();
    student.dispose();
  }
}

beforeAll(async () => {
  previous = tf.getBackend();
  const info = await selectBackend('wasm');
  expect(info.source).toMatch(/@tempered\/wasm-train/);
  scope = rootContainer.createChildContainer();
  for (const register of [registerModels, registerAttacks, registerBaselines, registerDefensiveDistillation, registerArd, registerCrdnd, registerRobustDistillation]) register(scope);
  await zooWorkload();
  await methodWorkload();
  recording = recorder.recording();
  await tf.setBackend('wasm');
}, 900_000);

afterAll(async () => {
  if (previous) await tf.setBackend(previous);
});

describe('the wasm-vs-cpu kernel audit', () => {
  it('records every kernel the profiler saw', () => {
    const recorded = new Set(recording.calls.map((c) => c.kernelName));
    expect(recording.profiledKernels.filter((name) => !recorded.has(name))).toEqual([]);
    expect(recorded.size).toBeGreaterThan(30);
    if (process.env.TEMPERED_AUDIT_VERBOSE) console.info(`${recorded.size} kernels, ${recording.calls.length} calls: ${[...recorded].sort().join(' ')}`);
  });

  it('every recorded kernel agrees with cpu, forward and gradient, except the documented differences', async () => {
    const found: Disagreement[] = [];
    for (const call of recording.calls) found.push(...(await auditKernelCall(call, 'wasm', 'cpu')));
    await tf.setBackend('wasm');
    const undocumented = found.filter((d) => !KNOWN_WASM_DIFFERENCES.some((known) => known.matches(d)));
    const report = undocumented.map((d) => `${d.kernelName} [${d.variant}] ${d.what}: ${d.count}/${d.size} differ, first at ${d.index}: cpu ${d.reference}, wasm ${d.actual} (${d.signature})`);
    expect(report).toEqual([]);
  }, 900_000);
});
