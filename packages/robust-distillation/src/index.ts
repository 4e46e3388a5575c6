/**
 * @tempered/robust-distillation: the field's robust-distillation methods, each as its authors
 * wrote it, RSLAD (Zi et al. 2021), IAD (Zhu et al. 2022) and AdaAD (Huang et al. 2023), and the
 * MART adversarial-training baseline (Wang et al. 2020), as method plugins written with core's
 * `defineMethod`.
 * @packageDocumentation
 */
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, registerPlugin } from '@tempered/core';
import { ADAAD } from './adaad.js';
import { IAD } from './iad.js';
import { MART } from './mart.js';
import { RSLAD } from './rslad.js';

export { ADAAD, ADAAD_PARAMS } from './adaad.js';
export type { AdaadParams } from './adaad.js';
export { IAD, IAD_PARAMS } from './iad.js';
export type { IadParams } from './iad.js';
export { MART, MART_PARAMS, martTerms } from './mart.js';
export type { MartParams } from './mart.js';
export { RSLAD, RSLAD_PARAMS } from './rslad.js';
export type { RsladParams } from './rslad.js';
export { klReductionParam, reduceKl } from './kl.js';
export type { KlReduction } from './kl.js';

/**
 * Registers the `rslad`, `iad`, `adaad` and `mart` methods (TOKENS.Method). IAD resolves its
 * inner attack ('pgd' by default) by name at setup, so register @tempered/attacks into the same
 * container.
 */
export function register(container: DependencyContainer): void {
  for (const method of [RSLAD, IAD, ADAAD, MART]) registerPlugin(container, TOKENS.Method, method);
}
