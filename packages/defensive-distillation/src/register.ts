import type { DependencyContainer } from 'tsyringe';
import { TOKENS, classPlugin, registerPlugin } from '@tempered/core';
import type { Loss } from '@tempered/core';
import { CE_AT_TEMPERATURE_PARAMS, CeAtTemperatureLoss } from './losses/ce-at-temperature.js';
import { SOFT_CE_AT_TEMPERATURE_PARAMS, SoftCeAtTemperatureLoss } from './losses/soft-ce-at-temperature.js';
import { KD_LOSS_PARAMS, KdLoss } from './losses/kd.js';
import { DEFENSIVE_DISTILLATION } from './methods/defensive-distillation.js';

/**
 * Registers this package's method (`defensive-distillation`) under {@link TOKENS.Method} and
 * losses (`ce-at-temperature`, `soft-ce-at-temperature`, `kd`) under
 * {@link TOKENS.Loss}. Registering twice into one container throws (duplicate names).
 */
export function register(container: DependencyContainer): void {
  registerPlugin<Loss>(
    container,
    TOKENS.Loss,
    classPlugin('ce-at-temperature', CeAtTemperatureLoss, {
      description: 'Cross-entropy of softmax(z/T) against hard labels',
      params: CE_AT_TEMPERATURE_PARAMS,
    }),
  );
  registerPlugin<Loss>(
    container,
    TOKENS.Loss,
    classPlugin('soft-ce-at-temperature', SoftCeAtTemperatureLoss, {
      description: 'Cross-entropy −Σ p·log softmax(z/T) against soft targets p',
      params: SOFT_CE_AT_TEMPERATURE_PARAMS,
    }),
  );
  registerPlugin<Loss>(
    container,
    TOKENS.Loss,
    classPlugin('kd', KdLoss, {
      description: 'Hinton KD: α·T²·KL(softmax(t/T) ‖ softmax(s/T)) (batchmean) + (1−α)·CE(s, y)',
      params: KD_LOSS_PARAMS,
    }),
  );
  registerPlugin(container, TOKENS.Method, DEFENSIVE_DISTILLATION);
}
