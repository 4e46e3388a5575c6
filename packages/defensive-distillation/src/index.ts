/**
 * @tempered/defensive-distillation: defensive distillation (Papernot et al. 2016) as a method
 * plugin written with core's `defineMethod`, with the temperature losses (`ce-at-temperature`,
 * `soft-ce-at-temperature`) and Hinton's `kd` loss as loss plugins. The baselines it is compared
 * with (`standard`, `kd`) are in @tempered/baselines.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { register } from './register.js';
export {
  DEFENSIVE_DISTILLATION,
  DEFENSIVE_DISTILLATION_PARAMS,
  SOFT_LABELS_STATE_KEY,
  softLabelsOf,
} from './methods/defensive-distillation.js';
export type { DefensiveDistillationParams } from './methods/defensive-distillation.js';
export { CeAtTemperatureLoss, CE_AT_TEMPERATURE_PARAMS } from './losses/ce-at-temperature.js';
export { SoftCeAtTemperatureLoss, SOFT_CE_AT_TEMPERATURE_PARAMS } from './losses/soft-ce-at-temperature.js';
export { KdLoss, KD_LOSS_PARAMS } from './losses/kd.js';
