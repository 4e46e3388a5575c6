import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tempered/core';
import { configJsonSchema, validateConfig } from './config.js';

const base = { dataset: 'mnist', model: 'mlp', students: [{ name: 'a', method: 'ard' }], evaluation: { attacks: ['pgd'] } };
/** The published schema, read by an independent Ajv that knows only the JSON. */
const published = new Ajv({ strict: false }).compile(configJsonSchema());

function refusal(config: unknown): string {
  try {
    validateConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('run config: one schema', () => {
  it('fills the documented defaults', () => {
    const config = validateConfig({ ...base, teacher: {}, evaluation: { attacks: ['pgd', 'jsma'] } });
    expect(config).toMatchObject({ name: 'run', seeds: [1], backend: 'auto', batchSize: 64, plugins: [] });
    expect(config.teacher).toMatchObject({ method: { name: 'standard', params: { epochs: 3 } }, epochs: 3 });
    expect(config.evaluation).toMatchObject({ examples: 500, workers: 2, diagnostics: true, params: {} });
    // No mode decided by name: an unset mode is left to the attack's declared default (the engine asks it).
    expect(config.evaluation.attacks.map((a) => a.mode)).toEqual([undefined, undefined]);
    expect(config.evaluation).toMatchObject({ metrics: [] });
    expect(config.evaluation).not.toHaveProperty('transferFrom');
    // Absent unless given: the recorded configs of runs written before it still merge with new ones.
    expect(config.evaluation).not.toHaveProperty('leaderboard');
    const named = { ...base, evaluation: { leaderboard: { reference: 'a' } } };
    expect(validateConfig(named).evaluation.leaderboard).toEqual(named.evaluation.leaderboard);
    expect(published(named)).toBe(true);
  });

  it('accepts method and attack names it does not know (plugins add them; preflight checks the registry)', () => {
    const custom = { ...base, students: [{ method: 'my-method' }], evaluation: { attacks: [{ name: 'my-attack', params: { x: 1 } }] } };
    expect(() => validateConfig(custom)).not.toThrow();
    expect(published(custom)).toBe(true);
  });

  it('refuses a bad field in one line naming it', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...base, epochz: 3 }, 'epochz: unknown field; expected one of name, seed, seeds, backend'],
      [{ ...base, batchSize: 0 }, 'batchSize: expected ≥ 1, got 0'],
      [{ ...base, seeds: [] }, 'seeds: expected at least 1 items'],
      [{ ...base, seed: 1, seeds: [2] }, 'seed: give either seed or seeds, not both'],
      [{ model: 'mlp', students: base.students }, 'dataset: missing; expected a dataset plugin, e.g. mnist'],
      [{ ...base, dataset: 3 }, 'dataset: expected a plugin name or { name, params }, got 3'],
      [{ ...base, dataset: { name: 'mnist', params: 3 } }, 'dataset.params: expected an object, got 3'],
      [{ ...base, name: 'my run' }, 'name: expected a name of letters, digits and dashes, got "my run"'],
      [{ ...base, students: [{ name: 'a', method: 'ard', params: [1] }] }, 'students[0].params: expected an object, got [1]'],
      [{ ...base, evaluation: { attacks: ['pgd', { name: 'pgd', mode: 'sideways' }] } }, 'evaluation.attacks[1].mode: expected untargeted or targeted, got "sideways"'],
      [{ ...base, evaluation: { transferFrom: 'nobody' } }, 'evaluation.transferFrom: expected the name of a student of this run, got "nobody"'],
      [{ ...base, evaluation: { leaderboard: { reference: 'nobody' } } }, 'evaluation.leaderboard.reference: expected the name of a student of this run, got "nobody"'],
      [{ ...base, evaluation: { leaderboard: { referense: 'a' } } }, 'evaluation.leaderboard.referense: unknown field'],
      [{ ...base, evaluation: { params: { batchSize: 0 } } }, 'evaluation.params.batchSize'],
      [{ ...base, evaluation: { params: { workers: 3 } } }, 'evaluation.params'],
      [{ ...base, evaluation: { params: { diagnostics: { thresholds: { transferTolerence: 0.1 } } } } }, 'evaluation.params.diagnostics.thresholds.transferTolerence: unknown field'],
      [{ ...base, evaluation: { metrics: ['m', { name: 'm' }] } }, 'evaluation.metrics[1].as: "m" is used twice'],
      [{ ...base, evaluation: { attacks: ['pgd', 'pgd'] } }, 'evaluation.attacks[1].as: "pgd" is used twice'],
      [{ ...base, teacher: { epochs: 0 } }, 'teacher.epochs: expected ≥ 1, got 0'],
      [{ ...base, students: [{ name: 'a', method: 'ard', teacher: 'b' }] }, 'students[0].teacher: expected the name of an earlier student'],
    ];
    for (const [config, message] of cases) {
      const text = refusal(config);
      expect(text).toContain(message);
      expect(text).not.toContain('\n');
    }
  });

  it('publishes the shape it enforces: the schema refuses what validateConfig refuses', () => {
    for (const bad of [{ ...base, name: 'my run' }, { ...base, batchSize: 0 }, { ...base, dataset: { name: 'mnist', params: 3 } }, { ...base, students: [] }]) {
      expect(() => validateConfig(bad)).toThrow(ConfigError);
      expect(published(bad)).toBe(false);
    }
    expect(published(base)).toBe(true);
  });

  it('composes plugin params into the published schema by name', () => {
    const params = { type: 'object', additionalProperties: false, properties: { epsilon: { type: 'number', minimum: 0 } } };
    const check = new Ajv({ strict: false }).compile(configJsonSchema({ method: { ard: params }, attack: { pgd: params } }));
    expect(check(base)).toBe(true);
    expect(check({ ...base, students: [{ method: 'ard', params: { epsilon: -1 } }] })).toBe(false);
    expect(check({ ...base, evaluation: { attacks: [{ name: 'pgd', params: { epsilonn: 1 } }] } })).toBe(false);
    expect(check({ ...base, students: [{ method: 'my-method', params: { anything: true } }] })).toBe(true);
  });
});
