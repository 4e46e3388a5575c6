/**
 * @tempered/baselines: the baselines robust distillation is compared with, standard training,
 * Hinton knowledge distillation, PGD adversarial training (Madry et al. 2018) and TRADES (Zhang
 * et al. 2019), as method plugins written with core's `defineMethod`.
 * @packageDocumentation
 */
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, registerPlugin } from '@tempered/core';
import { KD, KD_PARAMS } from './kd.js';
import { PGD_AT, PGD_AT_PARAMS } from './pgd-at.js';
import { STANDARD, STANDARD_PARAMS } from './standard.js';
import { TRADES, TRADES_PARAMS, klBetweenLogits } from './trades.js';

export { KD, KD_PARAMS, PGD_AT, PGD_AT_PARAMS, STANDARD, STANDARD_PARAMS, TRADES, TRADES_PARAMS, klBetweenLogits };
export type { KdParams } from './kd.js';
export type { PgdAtParams } from './pgd-at.js';
export type { StandardParams } from './standard.js';
export type { TradesParams } from './trades.js';

/**
 * Registers the `standard`, `kd`, `pgd-at` and `trades` methods under TOKENS.Method. `pgd-at`
 * resolves its inner attack by name at setup: register @tempered/attacks into the same container.
 */
export function register(container: DependencyContainer): void {
  for (const method of [STANDARD, KD, PGD_AT, TRADES]) registerPlugin(container, TOKENS.Method, method);
}
