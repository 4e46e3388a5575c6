import { crossEntropy, defineMethod, defineParams, type ParamValues } from '@tempered/core';

export const STANDARD_PARAMS = defineParams({
  epochs: { type: 'number', default: 50, min: 1, integer: true, description: 'Training epochs' },
});

export type StandardParams = ParamValues<typeof STANDARD_PARAMS>;

/**
 * Standard training: the undefended baseline of every distillation comparison (Papernot et al.
 * 2016 compare defensive distillation against exactly this model).
 *
 * Loss: `CE(softmax(z), y)` in one phase, `train`. Reported term: `ce`.
 *
 * Parameters (defaults): `epochs` 50; `optimizer` { name 'adam', learningRate 1e-3, … } and
 * `schedule` { name 'constant', … } (core's, see METHOD_TRAINING_PARAMS).
 *
 * Shapes: inputs [batch, ...inputShape], logits [batch, numClasses], labels int32 [batch].
 *
 * @example
 * ```ts
 * const method = createPlugin(container, TOKENS.Method, 'standard', { epochs: 10, optimizer: { name: 'momentum', learningRate: 0.1, weightDecay: 5e-4 } });
 * await method.setup({ student, createModel, train, batchSize: 128, seed: 1, container });
 * await new Trainer().run(method, { model: 'baseline', train, batchSize: 128, seed: 1 });
 * ```
 */
export const STANDARD = defineMethod({
  name: 'standard',
  description: 'Cross-entropy training at T = 1 (undefended baseline)',
  teacher: 'none',
  // Clean examples only: the transfer check's default source.
  adversarial: false,
  params: STANDARD_PARAMS,
  step: ({ batch: { x, labels }, student, minimize }) =>
    minimize(() => {
      const logits = student.logits(x, { training: true });
      const ce = crossEntropy(logits, labels, 1);
      return { loss: ce, terms: { ce }, logits, labels, accuracyOn: 'clean' };
    }),
});
