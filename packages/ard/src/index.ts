/**
 * @tempered/ard: Adversarially Robust Distillation (Goldblum et al. 2020) as a method plugin,
 * written with core's `defineMethod`, plus the `ard` loss. The adversarial training it is
 * compared with and distils from (PGD-AT, TRADES) is in @tempered/baselines.
 * @packageDocumentation
 */
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, classPlugin, registerPlugin } from '@tempered/core';
import { ARD_LOSS_PARAMS, ArdLoss } from './ard-loss.js';
import { ARD } from './ard.js';

export { ArdLoss, ARD_LOSS_PARAMS } from './ard-loss.js';
export type { ArdLossParams, LossTerms } from './ard-loss.js';
export { ARD, ARD_PARAMS } from './ard.js';
export type { ArdParams } from './ard.js';

/**
 * Registers the `ard` method (TOKENS.Method) and the `ard` loss (TOKENS.Loss). The inner attack
 * ('pgd' by default) is resolved by name at setup, so register @tempered/attacks (or another
 * attack plugin) into the same container.
 */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Method, ARD);
  registerPlugin(
    container,
    TOKENS.Loss,
    classPlugin('ard', ArdLoss, {
      description: 'α·T²·KL(softmax(T(x)/T) ‖ softmax(S(x′)/T)) + (1 − α)·CE(S(x), y)',
      params: ARD_LOSS_PARAMS,
    }),
  );
}
