import { checkSchema } from '@tempered/core';
import { RESULTS_JSON_SCHEMA, type ResultsFile } from './schema.js';

/**
 * Checks a parsed results.json against {@link RESULTS_JSON_SCHEMA} and returns it typed. Throws a
 * one-line ConfigError naming the file and the first bad field, e.g.
 * `results.json: models.ard.attacks.pgd.medianL2: expected number or null, got "far"`.
 */
export function parseResults(value: unknown, source = 'results.json'): ResultsFile {
  return checkSchema(RESULTS_JSON_SCHEMA, value, source) as ResultsFile;
}
