/**
 * @tempered/baselines: the baselines robust distillation is compared with, standard training,
 * Hinton knowledge distillation, PGD adversarial training (Madry et al. 2018), TRADES (Zhang
 * et al. 2019) and MART (Wang et al. 2020), as method plugins written with core's `defineMethod`.
 * @packageDocumentation
 */
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, registerPlugin } from '@tempered/core';
import { KD, KD_PARAMS } from './kd.js';
import { MART, MART_PARAMS, martTerms } from './mart.js';
import { PGD_AT, PGD_AT_PARAMS } from './pgd-at.js';
import { STANDARD, STANDARD_PARAMS } from './standard.js';
import { TRADES, TRADES_PARAMS, klBetweenLogits } from './trades.js';

export { KD, KD_PARAMS, MART, MART_PARAMS, martTerms, PGD_AT, PGD_AT_PARAMS, STANDARD, STANDARD_PARAMS, TRADES, TRADES_PARAMS, klBetweenLogits };
export type { KdParams } from './kd.js';
export type { MartParams } from './mart.js';
export type { PgdAtParams } from './pgd-at.js';
export type { StandardParams } from './standard.js';
export type { TradesParams } from './trades.js';

/**
 * Registers the `standard`, `kd`, `pgd-at`, `trades` and `mart` methods under TOKENS.Method. `pgd-at`
 * resolves its inner attack by name at setup: register @tempered/attacks into the same container.
 */
export function register(container: DependencyContainer): void {
  for (const method of [STANDARD, KD, PGD_AT, TRADES, MART]) registerPlugin(container, TOKENS.Method, method);
}
