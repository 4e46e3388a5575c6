/**
 * @tempered/crdnd: CRDND (Wang et al., ICASSP 2023), our reconstruction from the abstract, as a
 * method plugin written with core's `defineMethod`, with its separable losses `crdnd-denoised-kl`, `info-nce`, `relation-matching`.
 * @packageDocumentation
 */
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, classPlugin, registerPlugin } from '@tempered/core';
import { CRDND } from './crdnd.js';
import { DENOISED_KL_PARAMS, DenoisedKlLoss } from './denoised-kl.js';
import { INFO_NCE_PARAMS, InfoNceLoss } from './info-nce.js';
import { RELATION_MATCHING_PARAMS, RelationMatchingLoss } from './relation-matching.js';

export { CRDND, CRDND_PARAMS, CRDND_STATE_KEYS, INNER_MAX_PARAMS } from './crdnd.js';
export type { CrdndParams, CrdndStateKey } from './crdnd.js';
export { DenoisedKlLoss, DENOISED_KL_PARAMS, denoisedKlPerExample, teacherReliability, transitionMatrix } from './denoised-kl.js';
export type { DenoisedKlParams, LossTerms } from './denoised-kl.js';
export { InfoNceLoss, INFO_NCE_PARAMS, infoNce, l2Normalize } from './info-nce.js';
export type { InfoNceParams } from './info-nce.js';
export { RelationMatchingLoss, RELATION_MATCHING_PARAMS, relationMatching, cosineSimilarityMatrix } from './relation-matching.js';
export type { RelationMatchingParams } from './relation-matching.js';

/**
 * Registers the `crdnd` method (TOKENS.Method) and the `crdnd-denoised-kl`, `info-nce` and
 * `relation-matching` losses (TOKENS.Loss). With `innerLoss: 'ce'` the inner attack ('pgd') is
 * resolved by name at setup: register @tempered/attacks into the same container.
 */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Method, CRDND);
  registerPlugin(
    container,
    TOKENS.Loss,
    classPlugin('crdnd-denoised-kl', DenoisedKlLoss, {
      description: 'mean r·τ²·KL(softmax(T(x)/τ) ‖ softmax(S(x′)/τ)·M) + (1 − r)·CE(S(x′), y)',
      params: DENOISED_KL_PARAMS,
    }),
  );
  registerPlugin(
    container,
    TOKENS.Loss,
    classPlugin('info-nce', InfoNceLoss, {
      description: 'InfoNCE between L2-normalised student (x′) and teacher (x) embeddings over the batch',
      params: INFO_NCE_PARAMS,
    }),
  );
  registerPlugin(
    container,
    TOKENS.Loss,
    classPlugin('relation-matching', RelationMatchingLoss, {
      description: 'Match the student’s batch cosine-similarity matrix to the teacher’s (row-softmax KL or MSE)',
      params: RELATION_MATCHING_PARAMS,
    }),
  );
}
