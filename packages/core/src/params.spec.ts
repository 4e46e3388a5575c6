import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { defineParams, defaultParams, paramsJsonSchema, validateParams } from './params.js';
import { ConfigError } from './errors.js';

const SPEC = defineParams({
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'budget' },
  steps: { type: 'number', default: 10, min: 1, integer: true, description: 'iterations' },
  temperature: { type: 'number', default: 1, greaterThan: 0, description: 'T' },
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'norm' },
  randomStart: { type: 'boolean', default: true, description: 'random start' },
});

describe('validated params', () => {
  it('fills defaults and keeps valid overrides', () => {
    expect(defaultParams(SPEC)).toEqual({ epsilon: 0.3, steps: 10, temperature: 1, norm: 'linf', randomStart: true });
    expect(validateParams('pgd', SPEC, { epsilon: 0.1, norm: 'l2' })).toMatchObject({ epsilon: 0.1, norm: 'l2', steps: 10 });
  });

  it('names the field and the expectation on bad input', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ epsilon: -1 }, 'pgd.epsilon: expected ≥ 0, got -1'],
      [{ steps: 0 }, 'pgd.steps: expected ≥ 1, got 0'],
      [{ steps: 2.5 }, 'pgd.steps: expected an integer, got 2.5'],
      [{ temperature: 0 }, 'pgd.temperature: expected > 0, got 0'],
      [{ norm: 'l3' }, 'pgd.norm: expected one of linf, l2, got "l3"'],
      [{ randomStart: 'yes' }, 'pgd.randomStart: expected true or false, got "yes"'],
      [{ epsilon: '0.3' }, 'pgd.epsilon: expected a number, got "0.3"'],
      [{ eps: 0.3 }, 'pgd.eps: unknown parameter; expected one of epsilon, steps, temperature, norm, randomStart'],
    ];
    for (const [input, message] of cases) {
      expect(() => validateParams('pgd', SPEC, input)).toThrow(ConfigError);
      expect(() => validateParams('pgd', SPEC, input)).toThrow(message);
    }
  });

  it('accepts exactly the numbers inside the declared range', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -10, max: 10 }), (epsilon) => {
        const ok = epsilon >= 0;
        let threw = false;
        try {
          validateParams('pgd', SPEC, { epsilon });
        } catch {
          threw = true;
        }
        return threw === !ok;
      }),
    );
  });

  it('exports JSON Schema with defaults and bounds', () => {
    const schema = paramsJsonSchema(SPEC) as { properties: Record<string, Record<string, unknown>>; additionalProperties: boolean };
    expect(schema.additionalProperties).toBe(false);
    expect(schema).not.toHaveProperty('required'); // every parameter has a default
    expect(schema.properties.steps).toMatchObject({ type: 'integer', minimum: 1, default: 10 });
    expect(schema.properties.temperature).toMatchObject({ exclusiveMinimum: 0 });
    expect(schema.properties.norm).toMatchObject({ enum: ['linf', 'l2'] });
  });

  it('validates exactly what its published JSON Schema accepts (one definition)', () => {
    // An independent Ajv instance reads only the published JSON: it must agree with validateParams.
    const published = new Ajv({ strict: false }).compile(paramsJsonSchema(SPEC));
    const value = fc.oneof(fc.double({ min: -2, max: 12, noNaN: true }), fc.integer({ min: -2, max: 12 }), fc.boolean(), fc.constantFrom('linf', 'l2', 'l3', '0.3'));
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(SPEC), 'eps'), value, (key, v) => {
        let threw = false;
        try {
          validateParams('pgd', SPEC, { [key]: v });
        } catch {
          threw = true;
        }
        return threw === !published({ ...defaultParams(SPEC), [key]: v });
      }),
    );
  });

  it('refuses NaN and infinite numbers, naming them', () => {
    expect(() => validateParams('pgd', SPEC, { epsilon: Number.NaN })).toThrow('pgd.epsilon: expected a number, got NaN');
    expect(() => validateParams('pgd', SPEC, { epsilon: Number.POSITIVE_INFINITY })).toThrow('pgd.epsilon: expected a number, got Infinity');
  });
});
