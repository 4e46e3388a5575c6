import { Type } from '@sinclair/typebox';
import { ConfigError, checkSchema } from '@tempered/core/pure';
import { RESULTS_JSON_SCHEMA, type ResultsFile } from './schema.js';

// The version first: a file of another version is named as such, not by its first unknown field.
const VERSION_ONLY = Type.Object({ schemaVersion: RESULTS_JSON_SCHEMA.properties.schemaVersion });

// Rounding slack: intervals and their rates are computed separately and written as decimals.
const SLACK = 1e-9;

/**
 * Every interval `xInterval = [lower, upper]` holds lower ≤ upper and, where the rate `x` beside
 * it is a number, lower ≤ x ≤ upper. Which the schema cannot say (JSON Schema compares no two
 * fields); throws naming the first field that breaks it.
 */
export function checkIntervals(value: unknown, source: string, path = ''): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkIntervals(v, source, `${path}[${i}]`));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(record)) {
    const at = path ? `${path}.${key}` : key;
    // Spreads across seeds (`std`) mirror the fields but are not rates.
    if (key === 'std') continue;
    if (key.endsWith('Interval') && Array.isArray(field) && field.length === 2) {
      const [lower, upper] = field as [number, number];
      if (lower > upper + SLACK) throw new ConfigError(`${source}: ${at}`, `lower bound ${lower} is above upper bound ${upper}`);
      const rate = record[key.slice(0, -'Interval'.length)];
      if (typeof rate === 'number' && (rate < lower - SLACK || rate > upper + SLACK)) {
        throw new ConfigError(`${source}: ${at.slice(0, -'Interval'.length)}`, `${rate} lies outside its interval [${lower}, ${upper}]`);
      }
      continue;
    }
    checkIntervals(field, source, at);
  }
}

/**
 * Checks a parsed results.json against {@link RESULTS_JSON_SCHEMA} (every rate in [0, 1]) and
 * every rate against its interval, and returns it typed. Throws a one-line ConfigError naming
 * the file and the first bad field, e.g.
 * `results.json: models.ard.attacks.pgd.medianL2: expected number or null, got "far"`.
 */
export function parseResults(value: unknown, source = 'results.json'): ResultsFile {
  checkSchema(VERSION_ONLY, value, source);
  const results = checkSchema(RESULTS_JSON_SCHEMA, value, source) as ResultsFile;
  checkIntervals(results, source);
  return results;
}
