import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ConfigError, ModelError, RegistryError } from './errors.js';
import { defineMethod } from './method.js';
import { asTeacher, layersModelOf } from './model.js';
import { crossEntropy } from './ops.js';
import { defineParams } from './params.js';
import { Rng } from './random.js';
import { createPlugin, factoryPlugin, registerPlugin } from './registry.js';
import { blobs, tinyMlp } from './spec-fixtures.js';
import { expectNoLeaks } from './testing.js';
import { TOKENS } from './tokens.js';
import { Trainer } from './trainer.js';
import type { TrainingMethod, LossContext, Model } from './types.js';

const calls = { prepare: 0, release: 0 };
/** Clean cross-entropy through a loss slot, scaled by `scale`. */
const CE = defineMethod({
  name: 'ce-slot',
  description: 'CE through a slot',
  teacher: 'none',
  params: defineParams({ scale: { type: 'number', default: 1, min: 0, description: 'Loss scale' } }),
  losses: { ce: ({ student, labels }: Partial<LossContext>) => crossEntropy(student!.logits, labels!) },
  prepare: () => ({ id: ++calls.prepare }),
  release: () => void calls.release++,
  step: ({ batch, params, student, losses, minimize }) =>
    minimize(() => {
      const logits = student.logits(batch.x, { training: true });
      return { loss: tf.mul(losses.ce({ student: { logits } }), params.scale) as tf.Scalar, logits, labels: batch.labels };
    }),
});
const NEEDS_TEACHER = defineMethod({
  name: 'needs-teacher', description: 'x', teacher: 'required', params: defineParams({}),
  step: ({ minimize, teacher }) => minimize(() => ({ loss: tf.sum(teacher.logits(tf.zeros([1, 4]))) as tf.Scalar })),
});

const container = rootContainer.createChildContainer();
registerPlugin(container, TOKENS.Method, CE);
registerPlugin(container, TOKENS.Method, NEEDS_TEACHER);
// A registered loss for the slot: 3 × CE, so the objective on a batch is exactly tripled.
registerPlugin(container, TOKENS.Loss, factoryPlugin('triple-ce', () => ({
  name: 'triple-ce', compute: (c: LossContext) => tf.tidy(() => tf.mul(crossEntropy(c.student!.logits, c.labels), 3) as tf.Scalar),
})));
const data = blobs(60, 1);
const create = (name: string, params: Record<string, unknown> = {}) => createPlugin(container, TOKENS.Method, name, params) as TrainingMethod;

describe('defineMethod', () => {
  it('adds the training params with defaults and validates them, naming <method>.<field>', () => {
    const method = create('ce-slot', { epochs: 3 });
    expect(method.params()).toEqual({
      epochs: 3,
      optimizer: { name: 'adam', learningRate: 1e-3, momentum: 0.9, weightDecay: 0, beta1: 0.9, beta2: 0.999 },
      schedule: { name: 'constant', interval: 'epoch', milestones: [], gamma: 0.1, minLearningRate: 0, warmupEpochs: 0 },
      scale: 1,
      ceLoss: 'ce-slot.ce',
    });
    expect(() => create('ce-slot', { scale: -1 })).toThrow(/^ce-slot\.scale/);
    expect(() => create('ce-slot', { optimizer: { learningRate: 0 } })).toThrow(/^ce-slot\.optimizer\.learningRate/);
    expect(() => create('ce-slot', { optimizer: { name: 'lion' } })).toThrow(/^ce-slot\.optimizer\.name/);
    expect(() => create('ce-slot', { schedule: { name: 'piecewise', milestone: [3] } })).toThrow(/^ce-slot\.schedule/);
    expect(() => create('ce-slot', { temperature: 2 })).toThrow(ConfigError);
    expect(() => method.phases()).toThrow(/ce-slot\.setup/);
  });

  it('folds the flat optimiser keys of earlier releases into optimizer, and refuses a key given twice', () => {
    const method = create('ce-slot', { optimizer: 'momentum', learningRate: 0.05, momentum: 0.5 });
    expect(method.params().optimizer).toEqual({ name: 'momentum', learningRate: 0.05, momentum: 0.5, weightDecay: 0, beta1: 0.9, beta2: 0.999 });
    expect(() => create('ce-slot', { learningRate: 0 })).toThrow(/^ce-slot\.optimizer\.learningRate/);
    expect(() => create('ce-slot', { optimizer: { learningRate: 0.1 }, learningRate: 0.2 })).toThrow(/^ce-slot\.learningRate: given twice/);
  });

  it('trains one "train" phase with its own optimiser and releases everything at dispose', async () => {
    const student = tinyMlp(3);
    const before = { ...calls };
    const losses: number[] = [];
    await expectNoLeaks(async () => {
      const method = create('ce-slot', { epochs: 4, learningRate: 0.05 });
      await method.setup({ student, createModel: () => student, train: data, batchSize: 20, seed: 1, container });
      expect(method.phases().map((p) => p.name)).toEqual(['train']);
      // The phase's random streams keep their old name, so the rename moved no weight.
      expect(method.phases()[0]!.streamName).toBe('student');
      expect(method.result()).toBe(student);
      await new Trainer().on('epoch:end', (e) => void losses.push(e.loss)).run(method, { model: 'ce', train: data, batchSize: 20, seed: 1 });
      method.dispose();
    }, 'defineMethod training');
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    expect(calls.prepare - before.prepare).toBe(1);
    expect(calls.release - before.release).toBe(1);
    student.dispose();
  });

  it('refuses a missing or incompatible teacher', () => {
    const student = tinyMlp(4);
    expect(() => create('needs-teacher').setup({ student, createModel: () => student, train: data, batchSize: 20, seed: 1, container })).toThrow(/^needs-teacher\.teacher/);
    const other = tinyMlp(5, 4, 5); // 5 classes
    const teacher = { ...other, role: 'teacher' as const, name: 'five', numClasses: 5, inputShape: other.inputShape, bounds: other.bounds, hasFeatures: false };
    expect(() => create('needs-teacher').setup({ student, teacher, createModel: () => student, train: data, batchSize: 20, seed: 1, container })).toThrow(ModelError);
    student.dispose();
    other.dispose();
  });

  it('gives a method that declares teacher roles each role\'s teacher, the first as `teacher`, and refuses a missing one or a bad declaration', async () => {
    const seen: string[] = [];
    const definition = {
      name: 'two-teachers', description: 'x', teacher: 'required' as const, params: defineParams({}),
      teachers: { robust: 'matched on x′', clean: 'matched on x' },
      step: ({ minimize, teacher, teachers, batch, student }) => {
        seen.push(`${teacher.name}|${teachers.robust!.name}|${teachers.clean!.name}`);
        return minimize(() => ({ loss: crossEntropy(student.logits(batch.x, { training: true }), batch.labels) }));
      },
    } satisfies Parameters<typeof defineMethod>[0];
    const method = defineMethod(definition).create({}) as TrainingMethod;
    expect(method.teacherRoles).toEqual({ robust: 'matched on x′', clean: 'matched on x' });
    expect(create('needs-teacher').teacherRoles).toBeUndefined();
    const student = tinyMlp(1);
    const [robust, clean] = [tinyMlp(2), tinyMlp(3)].map((m) => asTeacher(m));
    const setup = { student, createModel: () => student, train: data, batchSize: 20, seed: 1, container };
    expect(() => method.setup({ ...setup, teacher: robust!, teachers: { robust: robust! } })).toThrow(/^two-teachers\.teachers\.clean: two-teachers distils from a clean teacher \(matched on x\)/);
    method.setup({ ...setup, teachers: { clean: clean!, robust: robust! } });
    const { x, labels } = data.batch([0, 1, 2]);
    await method.phases()[0]!.trainStep({ x, labels, indices: Int32Array.from([0, 1, 2]) }, { phase: 'train', epoch: 0, batch: 0, step: 0, rng: new Rng(1) });
    expect(seen).toEqual([`${robust!.name}|${robust!.name}|${clean!.name}`]);
    expect(() => defineMethod({ ...definition, teacher: 'none' as const } as never).create({})).toThrow(/^two-teachers\.teachers: a method definition declares at least one teacher role, with teacher: 'required'/);
    tf.dispose([x, labels]);
    method.dispose();
    for (const m of [student, robust!, clean!]) m.dispose();
  });

  it('replaces a loss slot by the registered name in params: the objective on a fixed batch follows it', async () => {
    const { x, labels } = data.batch([0, 1, 2, 3, 4, 5]);
    const objective = async (params: Record<string, unknown>) => {
      const student = tinyMlp(6);
      const method = create('ce-slot', params);
      await method.setup({ student, createModel: () => student, train: data, batchSize: 6, seed: 1, container });
      const ce = tf.tidy(() => crossEntropy(student.logits(x), labels).dataSync()[0]!);
      const step = { phase: 'student', epoch: 0, batch: 0, step: 0, rng: new Rng(1) };
      const { loss } = await method.phases()[0]!.trainStep({ x, labels, indices: new Int32Array(6) }, step);
      method.dispose();
      student.dispose();
      return loss / ce;
    };
    expect(await objective({})).toBeCloseTo(1, 5);
    expect(await objective({ ceLoss: 'triple-ce' })).toBeCloseTo(3, 5);
    tf.dispose([x, labels]);
    const student = tinyMlp(7);
    expect(() => create('ce-slot', { ceLoss: 'nope' }).setup({ student, createModel: () => student, train: data, batchSize: 6, seed: 1, container })).toThrow(RegistryError);
    student.dispose();
  });
});

describe('layersModelOf', () => {
  it("returns a Layers model's own LayersModel and refuses others in one line naming the model", () => {
    const student = tinyMlp(8);
    expect(layersModelOf(student, 'saved')).toBe(student.layersModel);
    const { toLayersModel: _, ...plain } = { ...student, name: 'raw-logits', toLayersModel: undefined } as Model & { toLayersModel?: unknown };
    expect(() => layersModelOf(plain as Model, 'saved by method "x"')).toThrow(ModelError);
    expect(() => layersModelOf(plain as Model, 'saved by method "x"')).toThrow(/^model "raw-logits": cannot be saved by method "x": it is not a tfjs LayersModel/);
    student.dispose();
  });
});
