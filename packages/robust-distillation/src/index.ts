/**
 * @tempered/robust-distillation: the field's robust-distillation methods, each as its authors
 * wrote it, RSLAD (Zi et al. 2021), IAD and IAD-II (Zhu et al. 2022; IAD-II with two teachers by role), AdaAD (Huang et al. 2023) and MTARD
 * (Zhao et al. 2022, two teachers by role), as method
 * plugins written with core's `defineMethod`. The MART baseline they are compared with is in
 * @tempered/baselines.
 * @packageDocumentation
 */
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, registerPlugin } from '@tempered/core';
import { ADAAD } from './adaad.js';
import { IAD } from './iad.js';
import { IAD_II } from './iad-ii.js';
import { MTARD } from './mtard.js';
import { RSLAD } from './rslad.js';

export { ADAAD, ADAAD_PARAMS } from './adaad.js';
export type { AdaadParams } from './adaad.js';
export { IAD, IAD_PARAMS, teacherTrust } from './iad.js';
export type { IadParams } from './iad.js';
export { IAD_II, IAD_II_PARAMS, IAD_II_TEACHERS } from './iad-ii.js';
export type { IadIiParams } from './iad-ii.js';
export { MTARD, MTARD_PARAMS, MTARD_STATE_KEY, MTARD_TEACHERS, AdaptiveTeacherWeights } from './mtard.js';
export type { MtardParams } from './mtard.js';
export { RSLAD, RSLAD_PARAMS } from './rslad.js';
export type { RsladParams } from './rslad.js';
export { klReductionParam, reduceKl } from './kl.js';
export type { KlReduction } from './kl.js';

/**
 * Registers the `rslad`, `iad`, `iad-ii`, `adaad` and `mtard` methods (TOKENS.Method). IAD and IAD-II resolve their
 * inner attack ('pgd' by default) by name at setup, so register @tempered/attacks into the same
 * container.
 */
export function register(container: DependencyContainer): void {
  for (const method of [RSLAD, IAD, IAD_II, ADAAD, MTARD]) registerPlugin(container, TOKENS.Method, method);
}
