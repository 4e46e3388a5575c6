/**
 * Methods by what they promise, on real digits: PGD-AT, TRADES and MART students, and ARD, RSLAD,
 * IAD, AdaAD, MTARD and IAD-II students distilling from the PGD-AT student (a robust teacher, as the papers;
 * MTARD's and IAD-II's clean teacher is the standard student),
 * each keep clearly more PGD robust accuracy than a standard student of the same architecture,
 * data and budget (one standard student and one teacher shared by all).
 * A method that crafts no adversarial input, or whose robust term never reaches the loss, fails.
 *
 * Budget: 600 training digits, MLP 784-64-10, 3 epochs of Adam 3e-3, batch 50, inner PGD ε 0.1,
 * 4 × 0.03 (default one-epoch ε warm-up); evaluation PGD ε 0.1, 20 × 0.01 on 200 test digits.
 * Measured on wasm, seeds 1–5 (ROBUSTNESS_SEEDS=1,2,3,4,5), PGD robust accuracy:
 *   standard 0.085–0.17 (clean 0.845–0.855); pgd-at 0.455–0.50; trades 0.44–0.485;
 *   ard (from the pgd-at student) 0.41–0.46.
 * Added with @tempered/robust-distillation, seeds 1–4 (IAD's introspection from epoch 1):
 *   mart 0.44–0.51; rslad 0.455–0.49; iad 0.465–0.525; adaad 0.415–0.445; ard 0.395–0.455.
 * The smallest gap to standard over those seeds is 0.225 (ard, seed 4), so the spec asks for 0.15.
 * MTARD (robust teacher: the PGD-AT student; clean teacher: the standard student), seeds 1–4:
 *   mtard 0.425–0.44 (clean 0.825–0.84, above ard's 0.73–0.78); smallest gap 0.27 (seed 4).
 *   It adds 0.7–1.6 s per seed (training and evaluation).
 * IAD-II (the same two teachers, introspection from epoch 1), seeds 1–4:
 *   iad-ii 0.46–0.53 (clean 0.80–0.835); smallest gap 0.29 (seed 4); the other rows unchanged.
 * About 25 s for one seed on 2 busy cores.
 */
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LayersStudent,
  Trainer,
  TOKENS,
  asTeacher,
  createPlugin,
  deriveSeed,
  selectBackend,
  type Dataset,
  type TrainingMethod,
  type Student,
  type Teacher,
} from '@tempered/core';
import { pgd, register as registerAttacks } from '@tempered/attacks';
import { register as registerArd } from '@tempered/ard';
import { register as registerBaselines } from '@tempered/baselines';
import { register as registerDistillation } from '@tempered/defensive-distillation';
import { register as registerRobustDistillation } from '@tempered/robust-distillation';
import { loadEmbeddedMnist } from '@tempered/datasets';

const SEEDS = (process.env.ROBUSTNESS_SEEDS ?? '1').split(',').map(Number);
const EPSILON = 0.1;
const BATCH = 50;
const BUDGET = { epochs: 3, learningRate: 3e-3 };
const MARGIN = 0.15;
const INNER = { epsilon: EPSILON, stepSize: 0.03, steps: 4 };

function mlp(name: string, seed: number): Student {
  const model = tf.sequential({ name });
  model.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
  model.add(tf.layers.dense({ units: 64, activation: 'relu', name: 'features', kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name, 'features') }) }));
  model.add(tf.layers.dense({ units: 10, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name, 'logits') }) }));
  return new LayersStudent(model, { name });
}

/** Accuracy on `data` clean and under PGD (ε 0.1, 20 × 0.01, random start). */
async function accuracies(model: Student, data: Dataset, seed: number): Promise<{ clean: number; robust: number }> {
  const { x, labels } = data.batch(Int32Array.from({ length: data.size }, (_, i) => i));
  const xAdv = await pgd(asTeacher(model), x, labels, { epsilon: EPSILON, stepSize: 0.01, steps: 20, seed });
  const count = (input: tf.Tensor) => tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(input), 1), labels), 'int32')).dataSync()[0]!);
  const result = { clean: count(x) / data.size, robust: count(xAdv) / data.size };
  tf.dispose([x, labels, xAdv]);
  return result;
}

async function train(
  name: string,
  method: string,
  params: Record<string, unknown>,
  data: Dataset,
  seed: number,
  teacher?: Teacher,
  teachers?: Readonly<Record<string, Teacher>>,
): Promise<Student> {
  const container = rootContainer.createChildContainer();
  registerAttacks(container);
  registerArd(container);
  registerBaselines(container);
  registerDistillation(container);
  registerRobustDistillation(container);
  const student = mlp(name, seed);
  const plugin = createPlugin(container, TOKENS.Method, method, params) as TrainingMethod;
  await plugin.setup({ student, teacher, ...(teachers ? { teachers } : {}), createModel: (n) => mlp(n, seed), train: data, batchSize: BATCH, seed, container });
  await new Trainer().run(plugin, { model: name, train: data, batchSize: BATCH, seed });
  plugin.dispose();
  return student;
}

describe('adversarial methods gain robustness (embedded MNIST, MLP, ε = 0.1)', () => {
  beforeAll(async () => {
    await selectBackend('wasm'); // the framework's default backend, with its training kernels
  });
  const { train: data, test } = loadEmbeddedMnist({ trainSize: 600, testSize: 200 });
  for (const seed of SEEDS) {
    it(`seed ${seed}: pgd-at, trades, mart, ard, rslad, iad, adaad, mtard and iad-ii keep more PGD accuracy than standard`, async () => {
      const measured: Record<string, { clean: number; robust: number }> = {};
      const standard = await train('standard', 'standard', BUDGET, data, seed);
      measured.standard = await accuracies(standard, test, seed);
      const at = await train('pgd-at', 'pgd-at', { ...BUDGET, ...INNER }, data, seed);
      measured['pgd-at'] = await accuracies(at, test, seed);
      const trades = await train('trades', 'trades', { ...BUDGET, ...INNER, beta: 6 }, data, seed);
      measured.trades = await accuracies(trades, test, seed);
      const mart = await train('mart', 'mart', { ...BUDGET, ...INNER }, data, seed);
      measured.mart = await accuracies(mart, test, seed);
      const ard = await train('ard', 'ard', { ...BUDGET, ...INNER }, data, seed, asTeacher(at));
      measured.ard = await accuracies(ard, test, seed);
      // The robust-distillation methods distil from the same robust (PGD-AT) teacher as ARD.
      const distilled = [ard];
      for (const [method, params] of [['rslad', {}], ['iad', { introspectionEpoch: 1 }], ['adaad', {}]] as const) {
        const student = await train(method, method, { ...BUDGET, ...INNER, ...params }, data, seed, asTeacher(at));
        measured[method] = await accuracies(student, test, seed);
        distilled.push(student);
      }
      // MTARD's two teachers are models this spec trains anyway: PGD-AT (robust) and the standard baseline (clean).
      const mtard = await train('mtard', 'mtard', { ...BUDGET, ...INNER }, data, seed, undefined, { robust: asTeacher(at), clean: asTeacher(standard) });
      measured.mtard = await accuracies(mtard, test, seed);
      distilled.push(mtard);
      // IAD-II's two teachers likewise: PGD-AT (robust, its trust measured) and the standard baseline (clean).
      const iad2 = await train('iad-ii', 'iad-ii', { ...BUDGET, ...INNER, introspectionEpoch: 1 }, data, seed, undefined, { robust: asTeacher(at), clean: asTeacher(standard) });
      measured['iad-ii'] = await accuracies(iad2, test, seed);
      distilled.push(iad2);
      for (const m of [standard, at, trades, mart, ...distilled]) m.dispose();
      // Re-measuring the figures above (ROBUSTNESS_SEEDS set) prints them.
      if (process.env.ROBUSTNESS_SEEDS) console.log(`seed ${seed}: ${JSON.stringify(measured)}`);
      // The baseline learned the task, so its low robust accuracy is the attack's doing.
      expect(measured.standard.clean, JSON.stringify(measured)).toBeGreaterThan(0.75);
      for (const method of ['pgd-at', 'trades', 'mart', 'ard', 'rslad', 'iad', 'adaad', 'mtard', 'iad-ii']) {
        expect(measured[method]!.robust - measured.standard.robust, `${method}: ${JSON.stringify(measured)}`).toBeGreaterThan(MARGIN);
      }
    });
  }
});
