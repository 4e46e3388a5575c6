/**
 * @tempered/core/pure: the part of core that needs no TensorFlow.js: typed errors, schema
 * checking with one-line errors, order statistics, and the norm names. A package that works on
 * plain data (the results layer, `@tempered/reports`) imports core from here, so that bundling
 * it for the browser pulls in no tfjs. Every name here is also exported by the main entry: the
 * same module, so `instanceof ConfigError` holds whichever entry made the error.
 * @packageDocumentation
 */
export {
  TemperedError,
  ConfigError,
  DatasetError,
  ModelError,
  RegistryError,
  NumericError,
  TrainingStepError,
  OutputExistsError,
  oneLineError,
} from './errors.js';
export { checkSchema, schemaErrors, pointerToField } from './schema-check.js';
export { median } from './stats.js';
export type { Norm } from './norm.js';
