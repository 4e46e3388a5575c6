import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, RegistryError, TOKENS, asTeacher, createPlugin, getPlugin, listPlugins, paramsJsonSchema } from '@tempered/core';
import type { TrainingMethod, Loss } from '@tempered/core';
import { DefensiveDistillation, KdLoss, KnowledgeDistillation, StandardTraining, register } from './index.js';
import { methodSetup, mnistDigits } from './mnist.fixtures.js';

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
    expect(new DefensiveDistillation({}).params()).toEqual({
      temperature: 20,
      teacherEpochs: 50,
      epochs: 50,
      optimizer: 'adam',
      learningRate: 1e-3,
      momentum: 0.9,
      hardLabelWeight: 0,
      sharedInit: false,
      reuseTeacher: false,
    });
    expect(new KnowledgeDistillation({}).params()).toMatchObject({ temperature: 4, alpha: 0.9, optimizer: 'adam', learningRate: 1e-3 });
    expect(new StandardTraining({}).params()).toMatchObject({ epochs: 50, optimizer: 'adam', learningRate: 1e-3 });
    expect(new KdLoss({}).params()).toEqual({ alpha: 0.9, temperature: 0 });
  });

  it.each([
    ['defensive-distillation', () => new DefensiveDistillation({ temperature: -1 }), 'defensive-distillation.temperature'],
    ['defensive-distillation', () => new DefensiveDistillation({ temperature: 0 }), 'defensive-distillation.temperature'],
    ['defensive-distillation', () => new DefensiveDistillation({ hardLabelWeight: 1.5 }), 'defensive-distillation.hardLabelWeight'],
    ['defensive-distillation', () => new DefensiveDistillation({ teacherEpochs: 2.5 }), 'defensive-distillation.teacherEpochs'],
    ['defensive-distillation', () => new DefensiveDistillation({ optimizer: 'rmsprop' }), 'defensive-distillation.optimizer'],
    ['defensive-distillation', () => new DefensiveDistillation({ sharedInit: 'yes' }), 'defensive-distillation.sharedInit'],
    ['defensive-distillation', () => new DefensiveDistillation({ temprature: 20 }), 'defensive-distillation.temprature'],
    ['kd', () => new KnowledgeDistillation({ temperature: -4 }), 'kd.temperature'],
    ['kd', () => new KnowledgeDistillation({ alpha: -0.1 }), 'kd.alpha'],
    ['kd', () => new KnowledgeDistillation({ beta: 1 }), 'kd.beta'],
    ['standard', () => new StandardTraining({ learningRate: 0 }), 'standard.learningRate'],
    ['standard', () => new StandardTraining({ temperature: 20 }), 'standard.temperature'],
    ['kd loss', () => new KdLoss({ alpha: 2 }), 'kd.alpha'],
  ])('%s: invalid or unknown parameter → ConfigError naming %s', (_, make, field) => {
    const error = configError(make);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}:`)).toBe(true);
  });

  it('lists the known parameters when one is unknown', () => {
    expect(configError(() => new DefensiveDistillation({ temprature: 20 })).message).toMatch(/temperature, teacherEpochs, epochs/);
  });

  it('validates setParams too, keeping the previous values on error', () => {
    const method = new DefensiveDistillation({ temperature: 50 });
    expect(configError(() => method.setParams({ temperature: -3 })).field).toBe('defensive-distillation.temperature');
    expect(method.params()['temperature']).toBe(50);
    method.setParams({ hardLabelWeight: 0.25 });
    expect(method.params()).toMatchObject({ temperature: 50, hardLabelWeight: 0.25 });
  });

  it('rejects reuseTeacher without a run teacher, reuseTeacher with sharedInit, and kd without a teacher', () => {
    const data = mnistDigits(2);
    const setup = methodSetup(data, 1);
    expect(configError(() => new DefensiveDistillation({ reuseTeacher: true }).setup(setup)).field).toBe('defensive-distillation.reuseTeacher');
    const teacherSetup = methodSetup(data, 1, { teacher: undefined });
    expect(configError(() => new KnowledgeDistillation({}).setup(teacherSetup)).field).toBe('kd.teacher');
    const withTeacher = { ...setup, teacher: asTeacher(setup.createModel('t')) };
    expect(configError(() => new DefensiveDistillation({ reuseTeacher: true, sharedInit: true }).setup(withTeacher)).field).toBe(
      'defensive-distillation.sharedInit',
    );
    withTeacher.teacher.dispose();
    setup.student.dispose();
    teacherSetup.student.dispose();
  });
});

describe('register', () => {
  it('registers three methods and three losses by name, creatable with validated params', () => {
    const container = rootContainer.createChildContainer();
    register(container);
    expect(listPlugins(container, TOKENS.Method)).toEqual(['defensive-distillation', 'kd', 'standard']);
    expect(listPlugins(container, TOKENS.Loss)).toEqual(['ce-at-temperature', 'kd', 'soft-ce-at-temperature']);

    const method = createPlugin<TrainingMethod>(container, TOKENS.Method, 'defensive-distillation', { temperature: 40 });
    expect(method).toBeInstanceOf(DefensiveDistillation);
    expect(method.params()['temperature']).toBe(40);
    expect(method.teacher).toBe('optional');
    expect(createPlugin<TrainingMethod>(container, TOKENS.Method, 'kd').teacher).toBe('required');
    expect(createPlugin<TrainingMethod>(container, TOKENS.Method, 'standard').teacher).toBe('none');
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
