import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { container, inject, injectable } from 'tsyringe';
import { TOKENS } from './tokens.js';
import { classPlugin, createPlugin, factoryPlugin, getPlugin, listPlugins, registerPlugin } from './registry.js';
import { RegistryError } from './errors.js';
import type { Loss } from './types.js';
import * as tf from '@tensorflow/tfjs';
import { defineParams, validateParams } from './params.js';

const SCALE_PARAMS = defineParams({ scale: { type: 'number', default: 1, min: 0, description: 'Scale' } });

@injectable()
class ScaledZeroLoss implements Loss {
  readonly name = 'scaled-zero';
  readonly scale: number;
  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>, @inject(TOKENS.Seed) readonly seed: number) {
    this.scale = validateParams('scaled-zero', SCALE_PARAMS, params).scale;
  }
  compute(): tf.Scalar {
    return tf.scalar(0);
  }
}

describe('plugin registry', () => {
  it('registers by token and name and builds class plugins through DI with their params', () => {
    const run = container.createChildContainer();
    run.register(TOKENS.Seed, { useValue: 7 });
    registerPlugin(run, TOKENS.Loss, classPlugin('scaled-zero', ScaledZeroLoss, { params: SCALE_PARAMS }));
    const loss = createPlugin(run, TOKENS.Loss, 'scaled-zero', { scale: 3 }) as ScaledZeroLoss;
    expect(loss.scale).toBe(3);
    expect(loss.seed).toBe(7);
    expect(getPlugin(run, TOKENS.Loss, 'scaled-zero').params).toBe(SCALE_PARAMS);
  });

  it('refuses a duplicate name under one token', () => {
    const run = container.createChildContainer();
    registerPlugin(run, TOKENS.Loss, factoryPlugin('a', () => ({}) as Loss));
    expect(() => registerPlugin(run, TOKENS.Loss, factoryPlugin('a', () => ({}) as Loss))).toThrow(
      /loss "a" is already registered/,
    );
    // The same name under another kind is a different plugin.
    expect(() => registerPlugin(run, TOKENS.Metric, factoryPlugin('a', () => ({}) as never))).not.toThrow();
  });

  it('names the known plugins when a name is unknown', () => {
    const run = container.createChildContainer();
    registerPlugin(run, TOKENS.Attack, factoryPlugin('pgd', () => ({}) as never));
    registerPlugin(run, TOKENS.Attack, factoryPlugin('fgsm', () => ({}) as never));
    expect(() => createPlugin(run, TOKENS.Attack, 'pdg')).toThrow(RegistryError);
    expect(() => createPlugin(run, TOKENS.Attack, 'pdg')).toThrow('unknown attack "pdg"; known: fgsm, pgd');
    expect(() => createPlugin(run, TOKENS.Method, 'ard')).toThrow('unknown method "ard"; known: (none registered)');
  });

  it('keeps child containers isolated from each other and sees the parent', () => {
    const parent = container.createChildContainer();
    registerPlugin(parent, TOKENS.Attack, factoryPlugin('shared', () => ({}) as never));
    const runA = parent.createChildContainer();
    const runB = parent.createChildContainer();
    registerPlugin(runA, TOKENS.Attack, factoryPlugin('only-a', () => ({}) as never));
    expect(listPlugins(runA, TOKENS.Attack)).toEqual(['only-a', 'shared']);
    expect(listPlugins(runB, TOKENS.Attack)).toEqual(['shared']);
    expect(listPlugins(parent, TOKENS.Attack)).toEqual(['shared']);
    expect(listPlugins(container, TOKENS.Attack)).toEqual([]);
    // A run may register a name its parent lacks, but not shadow one the parent has.
    expect(() => registerPlugin(runB, TOKENS.Attack, factoryPlugin('shared', () => ({}) as never))).toThrow(/already registered/);
  });

  it('rejects names that cannot appear in a config', () => {
    const run = container.createChildContainer();
    expect(() => registerPlugin(run, TOKENS.Loss, factoryPlugin('bad name', () => ({}) as Loss))).toThrow(/expected letters, digits and dashes/);
  });
});
