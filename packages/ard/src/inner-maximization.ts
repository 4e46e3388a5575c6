import { METHOD_TRAINING_PARAMS } from '@tempered/core';

// The inner maximisation (parameters, attack by name, crafting) is shared with CRDND through
// @tempered/attacks' public API.
export {
  INNER_MAX_PARAMS,
  WARMUP_PARAMS,
  EpsilonSchedule,
  ScheduledInnerAttack,
  batchesPerEpoch,
  createInnerAttack,
  craftAdversarial,
  klPgd,
} from '@tempered/attacks';
export type { InnerMaxSettings } from '@tempered/attacks';

/** Optimiser parameters every method in this package takes (core's createOptimizer; Adam 1e-3). */
export const TRAINING_PARAMS = METHOD_TRAINING_PARAMS;
