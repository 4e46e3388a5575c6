import { describe, expect, it } from 'vitest';
import { ConfigError, checkSchema } from '@tempered/core';
// The schema's building block is not public; the spec reads it from the results layer's source.
import { MetricValueSchema } from '../../../reports/src/schema.js';
import { metricValue } from './evaluate.js';

describe("a metric plugin's result", () => {
  it('is a number, null, or named numbers; non-finite becomes null, and what it returns passes the results schema', () => {
    for (const [raw, stored] of [
      [0.25, 0.25],
      [Number.NaN, null],
      [null, null],
      [{ a: 1, b: Number.POSITIVE_INFINITY, c: null }, { a: 1, b: null, c: null }],
    ] as const) {
      const value = metricValue('m', raw);
      expect(value).toEqual(stored);
      expect(() => checkSchema(MetricValueSchema, JSON.parse(JSON.stringify(value)), 'results.json')).not.toThrow();
    }
  });

  it('anything else is refused in one line naming the metric and the field', () => {
    expect(() => metricValue('rows', 'high')).toThrow(ConfigError);
    expect(() => metricValue('rows', 'high')).toThrow(/^evaluation\.metrics\.rows: expected a metric result that is a number, null or an object of numbers, got "high"$/);
    expect(() => metricValue('rows', { clean: [1, 2] })).toThrow(/^evaluation\.metrics\.rows\.clean: expected .* got \[1,2\]$/);
    expect(() => metricValue('rows', [1, 2])).toThrow(/^evaluation\.metrics\.rows: /);
  });
});
