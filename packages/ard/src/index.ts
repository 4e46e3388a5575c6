/**
 * @tempered/ard: Adversarially Robust Distillation (Goldblum et al. 2020) and the adversarial
 * training it is compared with and distils from, PGD-AT (Madry et al. 2018) and TRADES (Zhang et
 * al. 2019), as method plugins, plus the `ard` loss.
 * @packageDocumentation
 */
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, classPlugin, registerPlugin } from '@tempered/core';
import { ARD_LOSS_PARAMS, ArdLoss } from './ard-loss.js';
import { ARD_PARAMS, ArdMethod } from './ard.js';
import { PGD_AT } from './pgd-at.js';
import { TRADES_PARAMS, TradesMethod } from './trades.js';

export { ArdLoss, ARD_LOSS_PARAMS } from './ard-loss.js';
export type { ArdLossParams, LossTerms } from './ard-loss.js';
export { ArdMethod, ARD_PARAMS } from './ard.js';
export type { ArdParams } from './ard.js';
export { PGD_AT, PGD_AT_PARAMS } from './pgd-at.js';
export type { PgdAtParams } from './pgd-at.js';
export { TradesMethod, TRADES_PARAMS } from './trades.js';
export type { TradesParams } from './trades.js';
export { AdversarialTrainingMethod } from './adversarial-method.js';
export type { AdversarialTrainingSettings, PreparedRun } from './adversarial-method.js';
export { INNER_MAX_PARAMS, TRAINING_PARAMS, WARMUP_PARAMS, createInnerAttack, craftAdversarial } from './inner-maximization.js';
export type { InnerMaxSettings } from './inner-maximization.js';

/**
 * Registers the `ard`, `pgd-at` and `trades` methods (TOKENS.Method) and the `ard` loss (TOKENS.Loss).
 * The inner attack ('pgd' by default) is resolved by name at setup, so register
 * @tempered/attacks (or another attack plugin) into the same container.
 */
export function register(container: DependencyContainer): void {
  registerPlugin(
    container,
    TOKENS.Method,
    classPlugin('ard', ArdMethod, {
      description: 'Adversarially Robust Distillation (Goldblum et al. 2020): PGD on the student, T²-scaled KL to the clean-input teacher',
      params: ARD_PARAMS,
    }),
  );
  registerPlugin(container, TOKENS.Method, PGD_AT); // a core defineMethod
  registerPlugin(
    container,
    TOKENS.Method,
    classPlugin('trades', TradesMethod, {
      description: 'TRADES (Zhang et al. 2019): CE(f(x), y) + β·KL(f(x) ‖ f(x′)), x′ from PGD maximising that KL',
      params: TRADES_PARAMS,
    }),
  );
  registerPlugin(
    container,
    TOKENS.Loss,
    classPlugin('ard', ArdLoss, {
      description: 'α·T²·KL(softmax(T(x)/T) ‖ softmax(S(x′)/T)) + (1 − α)·CE(S(x), y)',
      params: ARD_LOSS_PARAMS,
    }),
  );
}
