/**
 * @tempered/defensive-distillation: defensive distillation (Papernot et al. 2016) and the
 * distillation-family baselines it is compared with (`standard` training, Hinton `kd`), as
 * Tempered method plugins, with their losses as loss plugins.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { register } from './register.js';
export {
  DefensiveDistillation,
  DEFENSIVE_DISTILLATION_PARAMS,
  SOFT_LABELS_STATE_KEY,
  softLabelsOf,
} from './methods/defensive-distillation.js';
export type { DefensiveDistillationParams } from './methods/defensive-distillation.js';
export { StandardTraining, STANDARD_PARAMS } from './methods/standard.js';
export type { StandardParams } from './methods/standard.js';
export { KnowledgeDistillation, KD_PARAMS } from './methods/kd.js';
export type { KdParams } from './methods/kd.js';
export { CeAtTemperatureLoss, CE_AT_TEMPERATURE_PARAMS } from './losses/ce-at-temperature.js';
export { SoftCeAtTemperatureLoss, SOFT_CE_AT_TEMPERATURE_PARAMS } from './losses/soft-ce-at-temperature.js';
export { KdLoss, KD_LOSS_PARAMS } from './losses/kd.js';
export { OPTIMIZER_SETTINGS } from './training-params.js';
