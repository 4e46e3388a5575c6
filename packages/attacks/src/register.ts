import { TOKENS, classPlugin, registerPlugin } from '@tempered/core';
import type { DependencyContainer } from 'tsyringe';
import { APGD_PARAMS, Apgd } from './apgd.js';
import { AUTOATTACK_PARAMS, AutoAttack } from './autoattack.js';
import { CW_PARAMS, CarliniWagnerL2 } from './cw.js';
import { FAB_PARAMS, Fab } from './fab.js';
import { FGSM_PARAMS, Fgsm } from './fgsm.js';
import { JSMA_PARAMS, Jsma } from './jsma.js';
import { PGD_PARAMS, Pgd } from './pgd.js';
import { SQUARE_PARAMS, Square } from './square.js';

/** Registers fgsm, pgd, jsma, cw, apgd, square, fab and autoattack under `TOKENS.Attack`. */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Attack, classPlugin('fgsm', Fgsm, { description: 'Fast Gradient Sign Method (L∞), Goodfellow et al. 2015', params: FGSM_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('pgd', Pgd, { description: 'Projected Gradient Descent (L∞ / L2), Madry et al. 2018', params: PGD_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('jsma', Jsma, { description: 'Jacobian-based Saliency Map Attack (L0, targeted), Papernot et al. 2016', params: JSMA_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('cw', CarliniWagnerL2, { description: 'Carlini & Wagner L2, 2017', params: CW_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('apgd', Apgd, { description: 'Auto-PGD (L∞ / L2; CE, DLR, APGD-T), Croce & Hein 2020', params: APGD_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('square', Square, { description: 'Square Attack, score-based black-box (L∞ / L2), Andriushchenko et al. 2020', params: SQUARE_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('fab', Fab, { description: 'Fast Adaptive Boundary attack, minimum-norm (L∞ / L2; FAB-T by default), Croce & Hein 2020', params: FAB_PARAMS }));
  registerPlugin(container, TOKENS.Attack, classPlugin('autoattack', AutoAttack, { description: 'AutoAttack standard: APGD-CE, APGD-T, FAB-T, Square; Croce & Hein 2020', params: AUTOATTACK_PARAMS }));
}
