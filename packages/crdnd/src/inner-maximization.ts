import { defineParams } from '@tempered/core';
import { INNER_MAX_PARAMS as SHARED_INNER_MAX_PARAMS } from '@tempered/attacks';

export { ScheduledInnerAttack, createInnerAttack, klPgd, type InnerMaxSettings } from '@tempered/attacks';

/**
 * Inner-maximisation parameters: @tempered/attacks' shared ones (MNIST defaults; CIFAR-10:
 * ε 8/255, step 2/255, 10 steps; the ε warm-up `cleanEpochs`, `warmupEpochs`) plus the choice
 * of objective.
 */
export const INNER_MAX_PARAMS = defineParams({
  innerLoss: {
    type: 'enum',
    values: ['ce', 'kl'],
    default: 'ce',
    description: "What x′ maximises: 'ce' = CE(S(x′), y) via the named inner attack (as ARD); 'kl' = KL(softmax(T(x)) ‖ softmax(S(x′))) by PGD (TRADES-style)",
  },
  ...SHARED_INNER_MAX_PARAMS,
});
