import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, RegistryError, TOKENS, asTeacher, createPlugin, getPlugin, listPlugins, paramsJsonSchema } from '@tempered/core';
import type { TrainingMethod, Loss } from '@tempered/core';
import { DEFENSIVE_DISTILLATION, KdLoss, register } from './index.js';
import { make, methodSetup, mnistDigits } from './mnist.fixtures.js';
// The baselines live in @tempered/baselines (which depends on this package), so specs reach them by path.
import { KD } from '../../baselines/src/kd.js';
import { STANDARD } from '../../baselines/src/standard.js';

const ADAM = { name: 'adam', learningRate: 1e-3, momentum: 0.9, weightDecay: 0, beta1: 0.9, beta2: 0.999 };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('parameters', () => {
  it('defaults follow the papers: T = 20 and Adam 1e-3 for defensive distillation, T = 4 and α = 0.9 for kd', () => {
    expect(make(DEFENSIVE_DISTILLATION, {}).params()).toEqual({
      temperature: 20,
      teacherEpochs: 50,
      epochs: 50,
      optimizer: ADAM,
      schedule: { name: 'constant', interval: 'epoch', milestones: [], gamma: 0.1, minLearningRate: 0, warmupEpochs: 0 },
      hardLabelWeight: 0,
      sharedInit: false,
      reuseTeacher: false,
    });
    expect(make(KD, {}).params()).toMatchObject({ temperature: 4, alpha: 0.9, optimizer: ADAM });
    expect(make(STANDARD, {}).params()).toMatchObject({ epochs: 50, optimizer: ADAM });
    expect(new KdLoss({}).params()).toEqual({ alpha: 0.9, temperature: 0 });
  });

  it.each([
    ['defensive-distillation', () => make(DEFENSIVE_DISTILLATION, { temperature: -1 }), 'defensive-distillation.temperature'],
    ['defensive-distillation', () => make(DEFENSIVE_DISTILLATION, { temperature: 0 }), 'defensive-distillation.temperature'],
    ['defensive-distillation', () => make(DEFENSIVE_DISTILLATION, { hardLabelWeight: 1.5 }), 'defensive-distillation.hardLabelWeight'],
    ['defensive-distillation', () => make(DEFENSIVE_DISTILLATION, { teacherEpochs: 2.5 }), 'defensive-distillation.teacherEpochs'],
    ['defensive-distillation', () => make(DEFENSIVE_DISTILLATION, { optimizer: 'rmsprop' }), 'defensive-distillation.optimizer.name'],
    ['defensive-distillation', () => make(DEFENSIVE_DISTILLATION, { sharedInit: 'yes' }), 'defensive-distillation.sharedInit'],
    ['defensive-distillation', () => make(DEFENSIVE_DISTILLATION, { temprature: 20 }), 'defensive-distillation.temprature'],
    ['kd', () => make(KD, { temperature: -4 }), 'kd.temperature'],
    ['kd', () => make(KD, { alpha: -0.1 }), 'kd.alpha'],
    ['kd', () => make(KD, { beta: 1 }), 'kd.beta'],
    ['standard', () => make(STANDARD, { learningRate: 0 }), 'standard.optimizer.learningRate'],
    ['standard', () => make(STANDARD, { temperature: 20 }), 'standard.temperature'],
    ['kd loss', () => new KdLoss({ alpha: 2 }), 'kd.alpha'],
  ])('%s: invalid or unknown parameter → ConfigError naming %s', (_, make, field) => {
    const error = configError(make);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}:`)).toBe(true);
  });

  it('lists the known parameters when one is unknown', () => {
    expect(configError(() => make(DEFENSIVE_DISTILLATION, { temprature: 20 })).message).toMatch(/temperature, teacherEpochs, hardLabelWeight/);
  });

  it('rejects reuseTeacher without a run teacher, reuseTeacher with sharedInit, and kd without a teacher', () => {
    const data = mnistDigits(2);
    const setup = methodSetup(data, 1);
    expect(configError(() => make(DEFENSIVE_DISTILLATION, { reuseTeacher: true }).setup(setup)).field).toBe('defensive-distillation.reuseTeacher');
    const teacherSetup = methodSetup(data, 1, { teacher: undefined });
    expect(configError(() => make(KD, {}).setup(teacherSetup)).field).toBe('kd.teacher');
    const withTeacher = { ...setup, teacher: asTeacher(setup.createModel('t')) };
    expect(configError(() => make(DEFENSIVE_DISTILLATION, { reuseTeacher: true, sharedInit: true }).setup(withTeacher)).field).toBe(
      'defensive-distillation.sharedInit',
    );
    withTeacher.teacher.dispose();
    setup.student.dispose();
    teacherSetup.student.dispose();
  });
});

describe('register', () => {
  it('registers its method and three losses by name, creatable with validated params', () => {
    const container = rootContainer.createChildContainer();
    register(container);
    expect(listPlugins(container, TOKENS.Method)).toEqual(['defensive-distillation']);
    expect(listPlugins(container, TOKENS.Loss)).toEqual(['ce-at-temperature', 'kd', 'soft-ce-at-temperature']);

    const method = createPlugin<TrainingMethod>(container, TOKENS.Method, 'defensive-distillation', { temperature: 40 });
    expect(method.params()['temperature']).toBe(40);
    expect(method.teacher).toBe('optional');
    expect(make(KD, {}).teacher).toBe('required');
    expect(make(STANDARD, {}).teacher).toBe('none');
    expect(createPlugin<Loss>(container, TOKENS.Loss, 'kd', { alpha: 0.5 })).toBeInstanceOf(KdLoss);
    expect(() => createPlugin(container, TOKENS.Method, 'defensive-distillation', { temperature: -1 })).toThrow(ConfigError);

    // The descriptors carry their parameter specs, from which the CLI derives JSON Schema.
    const schema = paramsJsonSchema(getPlugin(container, TOKENS.Method, 'defensive-distillation').params!);
    expect(schema['properties']).toMatchObject({ temperature: { type: 'number', default: 20, exclusiveMinimum: 0 } });
  });

  it('refuses to register twice into one container', () => {
    const container = rootContainer.createChildContainer();
    register(container);
    expect(() => register(container)).toThrow(RegistryError);
  });
});
