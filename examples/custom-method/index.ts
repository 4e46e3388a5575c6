/**
 * An outside method plugin, ALP (adversarial logit pairing), one `defineMethod` file; `register`
 * is what the CLI calls for each module listed under `plugins:`. No tsyringe import is needed.
 */
import { TOKENS, registerPlugin, type DependencyContainer } from '@tempered/core';
import { ALP } from './alp.js';

export { ALP, ALP_PARAMS } from './alp.js';

/** Registers `alp` under TOKENS.Method (a descriptor from `defineMethod`). */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Method, ALP);
}
