import { TOKENS, classPlugin, registerPlugin } from '@tempered/core';
import type { DependencyContainer } from 'tsyringe';
import { CW_PARAMS, CarliniWagnerL2 } from './cw.js';
import { FGSM_PARAMS, Fgsm } from './fgsm.js';
import { JSMA_PARAMS, Jsma } from './jsma.js';
import { PGD_PARAMS, Pgd } from './pgd.js';

/** Registers fgsm, pgd, jsma and cw under `TOKENS.Attack`. */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Attack, classPlugin('fgsm', Fgsm, { description: 'Fast Gradient Sign Method (L∞), Goodfellow et al. 2015', params: FGSM_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('pgd', Pgd, { description: 'Projected Gradient Descent (L∞ / L2), Madry et al. 2018', params: PGD_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('jsma', Jsma, { description: 'Jacobian-based Saliency Map Attack (L0, targeted), Papernot et al. 2016', params: JSMA_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('cw', CarliniWagnerL2, { description: 'Carlini & Wagner L2, 2017', params: CW_PARAMS }));
}
