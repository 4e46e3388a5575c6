/**
 * Two outside method plugins, RSLAD and MART, each one `defineMethod` file; `register` is what the
 * CLI calls for each module listed under `plugins:`. No tsyringe import is needed.
 */
import { TOKENS, registerPlugin, type DependencyContainer } from '@tempered/core';
import { MART } from './mart.js';
import { RSLAD } from './rslad.js';

export { MART, MART_PARAMS, martTerms } from './mart.js';
export { RSLAD, RSLAD_PARAMS } from './rslad.js';

/** Registers `rslad` and `mart` under TOKENS.Method (descriptors from `defineMethod`). */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Method, RSLAD);
  registerPlugin(container, TOKENS.Method, MART);
}
