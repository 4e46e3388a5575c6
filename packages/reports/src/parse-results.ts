import { Type } from '@sinclair/typebox';
import { checkSchema } from '@tempered/core';
import { RESULTS_JSON_SCHEMA, type ResultsFile } from './schema.js';

// The version first: a file of another version is named as such, not by its first unknown field.
const VERSION_ONLY = Type.Object({ schemaVersion: RESULTS_JSON_SCHEMA.properties.schemaVersion });

/**
 * Checks a parsed results.json against {@link RESULTS_JSON_SCHEMA} and returns it typed. Throws a
 * one-line ConfigError naming the file and the first bad field, e.g.
 * `results.json: models.ard.attacks.pgd.medianL2: expected number or null, got "far"`.
 */
export function parseResults(value: unknown, source = 'results.json'): ResultsFile {
  checkSchema(VERSION_ONLY, value, source);
  return checkSchema(RESULTS_JSON_SCHEMA, value, source) as ResultsFile;
}
