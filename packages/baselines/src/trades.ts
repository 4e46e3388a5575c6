import * as tf from '@tensorflow/tfjs';
import { batchesPerEpoch, crossEntropy, defineMethod, defineParams, logSoftmaxAt, type ParamValues, type StepLoss } from '@tempered/core';
import { EpsilonSchedule, INNER_MAX_PARAMS, klPgd } from '@tempered/attacks';

// TRADES crafts x′ with its own KL objective, so the named inner attack does not apply.
const { innerAttack: _namedAttack, randomStart: _uniformStart, ...BUDGET_PARAMS } = INNER_MAX_PARAMS;

export const TRADES_PARAMS = defineParams({
  beta: {
    type: 'number',
    default: 6,
    min: 0,
    description: 'Weight β of the robust KL term, 1/λ in the paper (paper and CIFAR-10 code: 6; their MNIST script: 1)',
  },
  randomStart: { type: 'boolean', default: true, description: 'Start the KL walk at x + 0.001·N(0, I), as the authors' },
  ...BUDGET_PARAMS,
});

export type TradesParams = ParamValues<typeof TRADES_PARAMS>;

/**
 * Batch-mean KL(softmax(targetLogits) ‖ softmax(logits)) between two sets of logits [batch, classes],
 * with the gradient flowing into both (the targets are a softmax, never exactly 0).
 *
 * @example
 * ```ts
 * const kl = klBetweenLogits({ targetLogits: cleanLogits, logits: adversarialLogits }); // TRADES' KL(f(x) ‖ f(x′))
 * ```
 */
export function klBetweenLogits({ targetLogits, logits }: { targetLogits: tf.Tensor2D; logits: tf.Tensor2D }): tf.Scalar {
  return tf.tidy(() => {
    const logP = logSoftmaxAt(targetLogits);
    return tf.mean(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logSoftmaxAt(logits))), 1)) as tf.Scalar;
  });
}

/**
 * TRADES (Zhang, Yu, Jiao, Xing, El Ghaoui & Jordan 2019, "Theoretically Principled Trade-off
 * between Robustness and Accuracy", ICML), as in the authors' code (yaodongyu/TRADES):
 *
 * `L = CE(f(x), y) + β·KL(softmax(f(x)) ‖ softmax(f(x′)))`, x′ = argmax_{‖x′−x‖≤ε} KL(softmax(f(x)) ‖ softmax(f(x′)))
 *
 * The inner maximisation is PGD on the KL to the model's own clean prediction (targets held
 * fixed, model in inference mode as their `model.eval()`), starting at x + 0.001·N(0, I), with
 * sign-of-gradient steps projected onto the ε-ball ∩ [0, 1] ({@link klPgd}). In the outer loss
 * the KL is reduced as theirs, summed over classes and averaged over the batch (`batchmean`,
 * their `(1/B)·KLDivLoss(size_average=False)`), and its gradient flows through both f(x) and
 * f(x′), as in their code (f(x) is not detached). One phase, `train`; no teacher.
 * Reported terms: `ce` (clean) and `kl` (unweighted); accuracy is the model's on x′.
 *
 * Parameters (defaults; the authors' MNIST / CIFAR-10 values in brackets): `beta` 6 [1 / 6],
 * `norm` 'linf', `epsilon` 0.3 [0.3 / 0.031], `stepSize` 0.05 [0.01 / 0.007], `steps` 10
 * [40 / 10], `randomStart` true [always], `cleanEpochs` 0, `warmupEpochs` 1 [0: full ε from the
 * first step; we ramp ε and the step size over the first epoch so a few-epoch budget at ε 0.3
 * leaves chance], `epochs` 10 [100 / 76]; core's `optimizer` Adam 1e-3 [momentum 0.9 at lr
 * 0.01 / 0.1, weight decay 2e-4 on CIFAR-10] and `schedule` constant [×0.1 steps, see
 * examples/recipes/trades-*.yaml].
 *
 * Departures from their code: the ε warm-up (off with `warmupEpochs: 0`); the Gaussian start is
 * clipped into [0, 1] before the first step; L2 uses normalised-gradient steps rather than
 * their SGD on δ; Adam instead of SGD by default (the recipes set theirs).
 *
 * Shapes: inputs [batch, ...inputShape], logits [batch, classes], labels int32 [batch].
 *
 * @example
 * ```ts
 * const trades = createPlugin(container, TOKENS.Method, 'trades', { beta: 6, epsilon: 0.3, steps: 10, stepSize: 0.05 });
 * await trades.setup({ student, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(trades, { model: 'trades', train, batchSize: 64, seed: 1 });
 * ```
 */
export const TRADES = defineMethod({
  name: 'trades',
  description: 'TRADES (Zhang et al. 2019): CE(f(x), y) + β·KL(f(x) ‖ f(x′)), x′ from PGD maximising that KL',
  teacher: 'none',
  adversarial: true,
  params: TRADES_PARAMS,
  prepare: ({ train, batchSize }, params) => new EpsilonSchedule(params, batchesPerEpoch(train.size, batchSize)),
  step({ batch: { x, labels }, step, params, student, prepared: schedule, minimize }) {
    const { epsilon, stepSize } = schedule.budget(step);
    const xAdv = tf.tidy(() => {
      const cleanLogits = student.logits(x, { training: false });
      return klPgd({ model: student, targetLogits: cleanLogits, x, settings: { ...params, epsilon, stepSize }, rng: step.rng, start: 'gaussian' });
    });
    try {
      return minimize((): StepLoss => {
        const cleanLogits = student.logits(x, { training: true });
        const adversarialLogits = student.logits(xAdv, { training: true });
        const ce = crossEntropy(cleanLogits, labels);
        const kl = klBetweenLogits({ targetLogits: cleanLogits, logits: adversarialLogits });
        const loss = tf.add(ce, tf.mul(kl, params.beta)) as tf.Scalar;
        return { loss, terms: { ce, kl }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      xAdv.dispose();
    }
  },
});
