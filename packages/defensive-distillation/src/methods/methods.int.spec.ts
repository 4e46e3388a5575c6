import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asTeacher, softmaxAt } from '@tempered/core';
import type { EpochEndEvent, Model, TrainerPosition } from '@tempered/core';
import { Trainer } from '@tempered/core';
import { expectNoLeaks } from '../../../core/src/testing.js';
import { accuracy, make, methodSetup, mnistDigits, train } from '../mnist.fixtures.js';
import { DEFENSIVE_DISTILLATION, SOFT_LABELS_STATE_KEY } from './defensive-distillation.js';
// The baselines live in @tempered/baselines (which depends on this package), so specs reach them by path.
import { STANDARD } from '../../../baselines/src/standard.js';
import { KD } from '../../../baselines/src/kd.js';

// Real MNIST digits (pooled to 14×14): 40 per class to train, 20 per class held out.
const TRAIN = () => mnistDigits(40, 0, 'mnist-train');
const HELD_OUT = () => mnistDigits(20, 600, 'mnist-held-out');

function weightsOf(model: Model): Float32Array[] {
  const weights = model.getWeights();
  const values = weights.map((w) => Float32Array.from(w.dataSync()));
  for (const w of weights) w.dispose();
  return values;
}

function byPhase(events: EpochEndEvent[], phase: string): EpochEndEvent[] {
  return events.filter((e) => e.phase.name === phase);
}

/** The loss falls from the first to the last epoch and numTensors is the same at every epoch end. */
function expectHealthyPhase(events: EpochEndEvent[], phase: string, epochs: number): void {
  const epochsOfPhase = byPhase(events, phase);
  expect(epochsOfPhase).toHaveLength(epochs);
  expect(epochsOfPhase.at(-1)!.loss).toBeLessThan(epochsOfPhase[0]!.loss);
  expect(new Set(epochsOfPhase.map((e) => e.numTensors)).size).toBe(1);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('standard', () => {
  it('trains with cross-entropy at T = 1, its loss falling, without leaks', async () => {
    const data = TRAIN();
    await expectNoLeaks(async () => {
      const method = make(STANDARD, { epochs: 5, learningRate: 1e-2 });
      const setup = methodSetup(data, 1);
      method.setup(setup);
      expect(method.phases().map((p) => p.name)).toEqual(['train']);
      const events = await train(method, data, 1);
      expectHealthyPhase(events, 'train', 5);
      expect(Object.keys(events[0]!.terms)).toEqual(['ce']);
      expect(accuracy(method.result(), HELD_OUT())).toBeGreaterThan(0.6);
      method.dispose();
      setup.student.dispose();
    }, 'standard training');
  });
});

describe('defensive-distillation', () => {
  it('trains a teacher at T, relabels with its softmax(z/T) and distils the student, without leaks', async () => {
    const data = TRAIN();
    const temperature = 20;
    await expectNoLeaks(async () => {
      const method = make(DEFENSIVE_DISTILLATION, { temperature, teacherEpochs: 6, epochs: 6, learningRate: 1e-2 });
      const setup = methodSetup(data, 2);
      method.setup(setup);
      const phases = method.phases();
      expect(phases.map((p) => p.name)).toEqual(['teacher', 'student']);
      expect(phases[0]!.model).toBe(method.teacherModel!());
      expect(phases[1]!.model).toBe(setup.student);
      expect(method.result()).toBe(setup.student);

      const events = await train(method, data, 2);
      expectHealthyPhase(events, 'teacher', 6);
      expectHealthyPhase(events, 'student', 6);
      expect(Object.keys(byPhase(events, 'student')[0]!.terms)).toEqual(['softCe']);

      // The stored soft labels are the teacher's softmax(z/T), row by row, by example index.
      const state = method.state();
      const softLabels = state[SOFT_LABELS_STATE_KEY]!;
      expect(softLabels.shape).toEqual([data.size, 10]);
      const { x, labels } = data.batch(Int32Array.from({ length: data.size }, (_, i) => i));
      const maxDifference = tf.tidy(() => tf.max(tf.abs(tf.sub(softmaxAt(method.teacherModel!()!.logits(x), temperature), softLabels))).dataSync()[0]!);
      expect(maxDifference).toBeLessThan(1e-6);
      const rowSums = tf.tidy(() => tf.sum(softLabels, 1).dataSync());
      for (const sum of rowSums) expect(sum).toBeCloseTo(1, 5);
      x.dispose();
      labels.dispose();
      softLabels.dispose();

      // Deployed at T = 1 (raw logits), the student classifies held-out digits well above chance.
      expect(accuracy(method.result(), HELD_OUT())).toBeGreaterThan(0.6);
      method.dispose();
      setup.student.dispose();
    }, 'defensive distillation');
  });

  it('trains a teacher at T = 20 that actually learns with the default optimiser (Adam 1e-3)', async () => {
    const data = mnistDigits(100, 0, 'mnist-1000');
    const method = make(DEFENSIVE_DISTILLATION, { temperature: 20, teacherEpochs: 10, epochs: 1 });
    const setup = methodSetup(data, 3);
    method.setup(setup);
    const events = await train(method, data, 3);
    const teacherEpochs = byPhase(events, 'teacher');
    expect(teacherEpochs.at(-1)!.loss).toBeLessThan(teacherEpochs[0]!.loss);
    // Chance is 0.1; an SGD teacher at T = 20 stays there for epochs, an Adam one does not.
    expect(accuracy(method.teacherModel!()!, HELD_OUT())).toBeGreaterThan(0.5);
    method.dispose();
    setup.student.dispose();
  });

  it('with plain SGD (lr 0.01) the same teacher at T = 20 stays near chance: why Adam is the default', async () => {
    const data = mnistDigits(100, 0, 'mnist-1000');
    const method = make(DEFENSIVE_DISTILLATION, { temperature: 20, teacherEpochs: 10, epochs: 1, optimizer: 'sgd', learningRate: 0.01 });
    const setup = methodSetup(data, 3);
    method.setup(setup);
    await train(method, data, 3);
    // The cross-entropy's gradient w.r.t. the logits is 1/T of the usual one; SGD does not rescale it.
    expect(accuracy(method.teacherModel!()!, HELD_OUT())).toBeLessThan(0.25);
    method.dispose();
    setup.student.dispose();
  });

  it('mixes hard labels at T with weight hardLabelWeight', async () => {
    const data = TRAIN();
    const method = make(DEFENSIVE_DISTILLATION, { teacherEpochs: 2, epochs: 2, learningRate: 1e-2, hardLabelWeight: 0.3 });
    const setup = methodSetup(data, 4);
    method.setup(setup);
    const events = await train(method, data, 4);
    for (const epoch of byPhase(events, 'student')) {
      const { softCe, hardCe } = epoch.terms as { softCe: number; hardCe: number };
      expect(epoch.loss).toBeCloseTo(0.7 * softCe + 0.3 * hardCe, 4);
      // Soft targets carry entropy the one-hot targets lack, so the two terms differ.
      expect(Math.abs(softCe - hardCe)).toBeGreaterThan(1e-3);
    }
    method.dispose();
    setup.student.dispose();
  });

  it('with sharedInit trains one epoch at T = 1 and starts both teacher and student from it', async () => {
    const data = TRAIN();
    await expectNoLeaks(async () => {
      const method = make(DEFENSIVE_DISTILLATION, { teacherEpochs: 2, epochs: 2, learningRate: 1e-2, sharedInit: true });
      const setup = methodSetup(data, 5);
      method.setup(setup);
      expect(method.phases().map((p) => p.name)).toEqual(['init', 'teacher', 'student']);
      const teacher = method.teacherModel!()!;
      const initial = weightsOf(setup.student);
      let afterInit: Float32Array[] | undefined;
      let studentAtPhaseStart: Float32Array[] | undefined;
      const trainer = new Trainer().on('phase:start', ({ phase }) => {
        if (phase.name === 'teacher') {
          afterInit = weightsOf(setup.student);
          expect(weightsOf(teacher)).toEqual(afterInit);
        }
        if (phase.name === 'student') studentAtPhaseStart = weightsOf(setup.student);
      });
      await trainer.run(method, { model: 'shared-init', train: data, batchSize: 32, seed: 5 });
      expect(afterInit).not.toEqual(initial);
      expect(studentAtPhaseStart).toEqual(afterInit);
      // The teacher trained on from the shared start; the student did not follow it.
      expect(weightsOf(teacher)).not.toEqual(afterInit);
      method.dispose();
      setup.student.dispose();
    }, 'shared init');
  });

  it('with reuseTeacher skips the teacher phase and relabels with the run teacher at T', async () => {
    const data = TRAIN();
    const baselineSetup = methodSetup(data, 6);
    const baseline = make(STANDARD, { epochs: 3, learningRate: 1e-2 });
    baseline.setup(baselineSetup);
    await train(baseline, data, 6);
    const runTeacher = asTeacher(baseline.result());

    await expectNoLeaks(async () => {
      const method = make(DEFENSIVE_DISTILLATION, { temperature: 10, epochs: 3, learningRate: 1e-2, reuseTeacher: true });
      const setup = methodSetup(data, 7, { teacher: runTeacher });
      method.setup(setup);
      expect(method.phases().map((p) => p.name)).toEqual(['student']);
      expect(method.teacherModel!()).toBe(runTeacher);
      const events = await train(method, data, 7);
      expectHealthyPhase(events, 'student', 3);
      const softLabels = method.state()[SOFT_LABELS_STATE_KEY]!;
      const { x, labels } = data.batch(Int32Array.from({ length: data.size }, (_, i) => i));
      const maxDifference = tf.tidy(() => tf.max(tf.abs(tf.sub(softmaxAt(runTeacher.logits(x), 10), softLabels))).dataSync()[0]!);
      expect(maxDifference).toBeLessThan(1e-6);
      x.dispose();
      labels.dispose();
      softLabels.dispose();
      method.dispose();
      setup.student.dispose();
    }, 'reuse teacher');
    // The run teacher belongs to the run: the method must not have disposed it.
    expect(accuracy(runTeacher, HELD_OUT())).toBeGreaterThan(0.5);
    baseline.dispose();
    baselineSetup.student.dispose();
  });

  it('is deterministic: one seed gives the same weights, another seed different ones', async () => {
    const data = TRAIN();
    const run = async (seed: number) => {
      const method = make(DEFENSIVE_DISTILLATION, { teacherEpochs: 2, epochs: 2, learningRate: 1e-2 });
      const setup = methodSetup(data, seed);
      method.setup(setup);
      await train(method, data, seed);
      const weights = weightsOf(method.result());
      method.dispose();
      setup.student.dispose();
      return weights;
    };
    const first = await run(8);
    expect(await run(8)).toEqual(first);
    expect(await run(9)).not.toEqual(first);
  });

  it.each([
    ['recomputing the soft labels from the checkpointed teacher', false],
    ['restoring the soft labels from state()', true],
  ])('resumes inside the student phase bit for bit, %s', async (_, restoreState) => {
    const data = TRAIN();
    // Momentum: its getWeights/setWeights round-trip is exact (Adam's β-powers are not).
    const params = { temperature: 20, teacherEpochs: 2, epochs: 3, optimizer: 'momentum', learningRate: 0.05 };
    const seed = 10;

    const uninterrupted = make(DEFENSIVE_DISTILLATION, params);
    const fullSetup = methodSetup(data, seed);
    uninterrupted.setup(fullSetup);
    await new Trainer().run(uninterrupted, { model: 'dd', train: data, batchSize: 32, seed });
    const expected = weightsOf(uninterrupted.result());
    uninterrupted.dispose();
    fullSetup.student.dispose();

    // Interrupted after the student's first epoch: keep what a checkpoint keeps.
    const interrupted = make(DEFENSIVE_DISTILLATION, params);
    const firstSetup = methodSetup(data, seed);
    interrupted.setup(firstSetup);
    const stopper = new Trainer().on('epoch:end', (event, control) => {
      if (event.phase.name === 'student' && event.epoch === 0) control.stop('simulated kill');
    });
    const outcome = await stopper.run(interrupted, { model: 'dd', train: data, batchSize: 32, seed });
    expect(outcome.stopped).toBe(true);
    const position: TrainerPosition = outcome.position;
    expect(position).toMatchObject({ phase: 1, epoch: 1, batch: 0 });
    const saved = interrupted.phases().map((phase) => phase.model.getWeights());
    const studentOptimizer = interrupted.phases()[1]!.optimizer;
    const optimizerState = (await studentOptimizer.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    const state = interrupted.state();
    interrupted.dispose();
    firstSetup.student.dispose();

    const resumed = make(DEFENSIVE_DISTILLATION, params);
    const resumedSetup = methodSetup(data, seed);
    resumed.setup(resumedSetup);
    resumed.phases().forEach((phase, i) => phase.model.setWeights(saved[i]!));
    await resumed.phases()[1]!.optimizer.setWeights(optimizerState);
    if (restoreState) resumed.loadState(state);
    await new Trainer().run(resumed, { model: 'dd', train: data, batchSize: 32, seed, resume: position });
    expect(weightsOf(resumed.result())).toEqual(expected);

    for (const weights of saved) for (const w of weights) w.dispose();
    for (const w of optimizerState) w.tensor.dispose();
    for (const t of Object.values(state)) t.dispose();
    resumed.dispose();
    resumedSetup.student.dispose();
  });

  it('disposes the teacher it trained but not the student', async () => {
    const data = TRAIN();
    const method = make(DEFENSIVE_DISTILLATION, { teacherEpochs: 1, epochs: 1, learningRate: 1e-2 });
    const setup = methodSetup(data, 11);
    method.setup(setup);
    await train(method, data, 11);
    const teacher = method.teacherModel!()!;
    method.dispose();
    expect(method.teacherModel!()).toBeUndefined();
    expect(() => teacher.getWeights()).toThrow();
    expect(accuracy(setup.student, HELD_OUT())).toBeGreaterThan(0.1);
    setup.student.dispose();
  });
});

describe('kd', () => {
  it('distils the run teacher with α·T²·KL + (1−α)·CE, its loss falling, without leaks', async () => {
    const data = TRAIN();
    const teacherSetup = methodSetup(data, 12);
    const teacherTraining = make(STANDARD, { epochs: 5, learningRate: 1e-2 });
    teacherTraining.setup(teacherSetup);
    await train(teacherTraining, data, 12);
    const teacher = asTeacher(teacherTraining.result());

    await expectNoLeaks(async () => {
      const method = make(KD, { epochs: 5, learningRate: 1e-2 });
      const setup = methodSetup(data, 13, { teacher });
      method.setup(setup);
      expect(method.teacherModel!()).toBe(teacher);
      const events = await train(method, data, 13);
      expectHealthyPhase(events, 'train', 5);
      for (const epoch of events) {
        const { kl, ce } = epoch.terms as { kl: number; ce: number };
        expect(epoch.loss).toBeCloseTo(0.9 * 16 * kl + 0.1 * ce, 3);
      }
      // The student moves towards the teacher: the KL term falls.
      expect(events.at(-1)!.terms['kl']!).toBeLessThan(events[0]!.terms['kl']!);
      expect(accuracy(method.result(), HELD_OUT())).toBeGreaterThan(0.6);
      method.dispose();
      setup.student.dispose();
    }, 'kd');
    expect(() => teacher.getWeights().forEach((w) => w.dispose())).not.toThrow();
    teacherTraining.dispose();
    teacherSetup.student.dispose();
  });
});
