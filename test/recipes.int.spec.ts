import * as tf from '@tensorflow/tfjs';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOKENS, Trainer, asTeacher, createPlugin, learningRateAt, type Teacher, type TrainingMethod } from '@tempered/core';
import { syntheticSplits } from '@tempered/datasets';
import { buildModel } from '@tempered/models';
import { configJsonSchema, readConfig } from '../packages/cli/src/config.js';
import { pluginSchemas } from '../packages/cli/src/plugins.js';
import { preflight, runContainer } from '../packages/cli/src/run.js';
import { ROOT } from './helpers.js';

/**
 * The published recipes (examples/recipes): each validates against what `tempered schema`
 * publishes, passes the CLI's preflight, and each of its methods (teacher and students) trains
 * one tiny batch with the recipe's own parameters, its first step at the rate the recipe's
 * optimiser and schedule give. Cheap: a synthetic dataset of the recipe's image shape (no CIFAR
 * files exist here), one epoch, two attack steps, and the smallest model of the recipe's family
 * instead of its wide network.
 */
const DIR = join(ROOT, 'examples/recipes');
const recipes = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const TINY: Record<string, { name: string; params: Record<string, unknown> }> = {
  cifar10: { name: 'resnet-small', params: { depth: 8, widthMultiplier: 0.25 } },
  mnist: { name: 'papernot-mnist', params: { widthMultiplier: 0.25 } },
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('published recipes', () => {
  it('cover every built-in method on CIFAR-10, and MNIST where the authors published one', () => {
    expect(recipes).toEqual([
      'adaad-cifar10.yaml', 'ard-cifar10.yaml', 'crdnd-cifar10.yaml', 'defensive-distillation-cifar10.yaml',
      'iad-cifar10.yaml', 'iad-ii-cifar10.yaml', 'kd-cifar10.yaml', 'mart-cifar10.yaml', 'mtard-cifar10.yaml',
      'pgd-at-cifar10.yaml', 'pgd-at-mnist.yaml', 'rslad-cifar10.yaml', 'standard-cifar10.yaml', 'trades-cifar10.yaml',
      'trades-mnist.yaml',
    ]);
  });

  for (const file of recipes) {
    it(`${file}: valid, and each of its methods trains one batch at the recipe's learning rate`, async () => {
      const path = join(DIR, file);
      const config = readConfig(path);
      const { container } = await runContainer(config, dirname(path));
      expect(() => preflight(container, config)).not.toThrow();
      const published = new Ajv({ strict: false }).compile(configJsonSchema(pluginSchemas(container)));
      expect(published(parseYaml(readFileSync(path, 'utf8'))), JSON.stringify(published.errors?.[0])).toBe(true);

      const dataset = config.dataset.name as 'cifar10' | 'mnist';
      const [height, channels] = dataset === 'cifar10' ? [32, 3] : [28, 1];
      const train = syntheticSplits({ trainSize: 4, testSize: 2, height, width: height, channels }).train;
      const tiny = TINY[dataset]!;
      const model = (name: string, seed: number) =>
        buildModel(container, tiny.name, { name, inputShape: train.inputShape, numClasses: 10, seed }, tiny.params);
      const teacher = asTeacher(model('teacher', 1));
      const runs = [...(config.teacher ? [{ name: 'teacher', method: config.teacher.method }] : []), ...config.students];
      for (const run of runs) {
        const { name, method: ref } = run;
        // One epoch and at most two attack steps: the recipe's ε, step size, optimiser and schedule stay.
        const cheap = { epochs: 1, ...('teacherEpochs' in ref.params ? { teacherEpochs: 1 } : {}), ...('steps' in ref.params ? { steps: 2 } : {}) };
        const params = { ...ref.params, ...cheap };
        const method = createPlugin<TrainingMethod>(container, TOKENS.Method, ref.name, params);
        const student = model(name, 2);
        // A several-teacher student (mtard, iad-ii) gets a model for each role its recipe names: the
        // run's teacher where it says 'teacher', a fresh tiny model where it names an earlier student.
        const sources = 'teachers' in run ? run.teachers : undefined;
        const earlier: Teacher[] = [];
        const teachers = sources && Object.fromEntries(Object.entries(sources).map(([role, source], i) => {
          if (source === 'teacher') return [role, teacher];
          const other = asTeacher(model(source, 4 + i));
          earlier.push(other);
          return [role, other];
        }));
        expect(Object.keys(teachers ?? {}), `${file} ${name}: the teacher roles the recipe names`).toEqual(Object.keys(method.teacherRoles ?? {}));
        const primary = teachers?.[Object.keys(method.teacherRoles ?? {})[0]!];
        await method.setup({
          student, teacher: primary ?? (method.teacher === 'none' ? undefined : teacher), ...(teachers ? { teachers } : {}),
          createModel: (n) => model(n, 3), train, batchSize: config.batchSize, seed: 1, container,
        });
        const rates: number[] = [];
        const losses: number[] = [];
        await new Trainer().on('batch:end', (e) => void (rates.push(e.learningRate!), losses.push(e.loss))).run(method, { model: name, train, batchSize: config.batchSize, seed: 1 });
        expect(losses.length, `${file} ${name}`).toBe(method.phases().length);
        expect(losses.every(Number.isFinite)).toBe(true);
        const recorded = method.params() as { optimizer: { learningRate: number }; schedule: Parameters<typeof learningRateAt>[0] };
        const configured = (ref.params.optimizer as { learningRate: number }).learningRate;
        expect(recorded.optimizer.learningRate).toBe(configured);
        expect(rates[0]).toBeCloseTo(learningRateAt(recorded.schedule, configured, { epoch: 0, batch: 0, batchesPerEpoch: 1, epochs: 1 }), 12);
        method.dispose();
        student.dispose();
        for (const other of earlier) other.dispose();
      }
      teacher.dispose();
    }, 120_000);
  }
});
