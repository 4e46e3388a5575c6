import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, defineParams, getPlugin, modelView, type Attack, type Model, type Rng, type StepContext } from '@tempered/core';

/**
 * The ε warm-up every adversarial-training method takes: optional clean epochs (x′ = x), then ε
 * and the step size ramp linearly, batch by batch, from 0 to their full values over
 * `warmupEpochs`. Training from scratch at the full MNIST ε = 0.3 stalls at chance (measured:
 * `pgd-at`, ε 0.3, 4 × 0.1, half-width Papernot CNN, 11 % training accuracy for 3 epochs); with
 * the default one-epoch ramp the same student leaves chance in its first epoch. Practitioners do
 * the same (e.g. Gowal et al. 2018 and Zhang et al. 2020 ramp ε for IBP/CROWN-IBP; Wong et al.
 * 2020 ramp ε for fast adversarial training); Madry et al. and Zhang et al. (TRADES) train at
 * full ε from the first step with many more epochs, i.e. `warmupEpochs: 0`.
 *
 * @example
 * ```ts
 * // a method whose inner maximisation is its own, with the shared ramp:
 * const PARAMS = defineParams({ epsilon: { type: 'number', default: 0.3, min: 0, description: 'ε' }, stepSize: { type: 'number', default: 0.05, greaterThan: 0, description: 'step' }, ...WARMUP_PARAMS });
 * const schedule = new EpsilonSchedule(params, batchesPerEpoch(train.size, batchSize)); // params: the validated PARAMS
 * ```
 */
export const WARMUP_PARAMS = defineParams({
  cleanEpochs: {
    type: 'number',
    default: 0,
    integer: true,
    min: 0,
    description: 'Epochs of clean training (x′ = x) before the attack starts',
  },
  warmupEpochs: {
    type: 'number',
    default: 1,
    min: 0,
    description: 'Epochs (after the clean ones) over which ε and the step size ramp linearly per batch from 0 to full; 0 = full ε at once (the papers)',
  },
});

/**
 * Parameters of the inner maximisation of adversarial training and robust distillation (PGD-AT,
 * TRADES, ARD, CRDND). Defaults are for MNIST in [0, 1] (Madry et al. 2018 use ε = 0.3 with 40
 * steps of 0.01; 10 steps of 0.05 let the walk, 0.5, still cross the ε-ball). Goldblum et al.'s
 * CIFAR-10 values are ε = 8/255, step 2/255, 10 steps. Includes {@link WARMUP_PARAMS}. The
 * objective-walk (KL) inner attack's bundle is `WALK_PARAMS`. Spread it into a method's
 * params and hand the validated values to {@link ScheduledInnerAttack}.
 *
 * @example
 * ```ts
 * export const ALP_PARAMS = defineParams({
 *   pairingWeight: { type: 'number', default: 0.5, min: 0, description: 'Weight λ of the logit-pairing term' },
 *   ...INNER_MAX_PARAMS,
 * });
 * // config: params: { epsilon: 0.3, steps: 10, warmupEpochs: 0 }
 * ```
 */
export const INNER_MAX_PARAMS = defineParams({
  innerAttack: {
    type: 'string',
    default: 'pgd',
    description: 'Name of the registered attack (TOKENS.Attack) that crafts x′ on the student',
  },
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'Norm of the perturbation budget' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'Perturbation budget ε (MNIST; CIFAR-10: 8/255)' },
  stepSize: { type: 'number', default: 0.05, greaterThan: 0, description: 'PGD step size (MNIST; CIFAR-10: 2/255)' },
  steps: { type: 'number', default: 10, integer: true, min: 1, description: 'PGD iterations' },
  randomStart: { type: 'boolean', default: true, description: 'Start from a uniform random point in the ε-ball' },
  ...WARMUP_PARAMS,
});

export interface WarmupSettings {
  readonly cleanEpochs: number;
  readonly warmupEpochs: number;
}

export interface InnerMaxSettings extends Partial<WarmupSettings> {
  readonly innerAttack: string;
  readonly norm: 'linf' | 'l2';
  readonly epsilon: number;
  readonly stepSize: number;
  readonly steps: number;
  readonly randomStart: boolean;
}

/**
 * The share of the full ε (and step size) the warm-up allows at batch `batch` of epoch `epoch`
 * (both 0-based), in [0, 1]: 0 during the clean epochs, then (progress − clean) / warmup, where
 * progress counts finished batches in epochs.
 */
export function warmupFactor(settings: Partial<WarmupSettings>, epoch: number, batch: number, batchesPerEpoch: number): number {
  const clean = settings.cleanEpochs ?? 0;
  const warmup = settings.warmupEpochs ?? 0;
  const progress = epoch + (batch + 1) / Math.max(1, batchesPerEpoch) - clean;
  if (progress <= 1e-9) return 0;
  if (warmup <= 0) return 1;
  return Math.min(1, progress / warmup);
}

/**
 * Resolves the training-time inner attack by name from the run's container. PGD's parameters are
 * offered and only those the attack declares are passed, so any registered attack can be swapped
 * in by name (e.g. `fgsm` receives ε, not `steps`). The objective is cross-entropy against the
 * hard labels, and the final (loss-maximising) iterate is kept, as in Madry et al. and the ARD
 * code, not the evaluation-time "last successful iterate".
 *
 * @example
 * const attack = createInnerAttack(container, { innerAttack: 'pgd', norm: 'linf', epsilon: 0.3, stepSize: 0.05, steps: 10, randomStart: true });
 */
export function createInnerAttack(container: DependencyContainer, settings: InnerMaxSettings): Attack {
  const descriptor = getPlugin(container, TOKENS.Attack, settings.innerAttack);
  const offered: Record<string, unknown> = {
    norm: settings.norm,
    epsilon: settings.epsilon,
    stepSize: settings.stepSize,
    steps: settings.steps,
    randomStart: settings.randomStart,
    loss: 'ce',
    keepSuccessful: false,
  };
  const declared = descriptor.params;
  const params = declared ? Object.fromEntries(Object.entries(offered).filter(([key]) => key in declared)) : offered;
  return descriptor.create(params, container);
}

/**
 * x′ = attack(student, x, y), crafted with the student in inference mode (attacks call
 * `logits(x)` with training off): attack iterations neither update batch-norm statistics nor see a
 * fresh dropout mask per step. The seed comes from the trainer's per-step stream, so one run seed
 * gives the same random starts. The caller disposes the result.
 */
export function craftAdversarial(attack: Attack, student: Model, x: tf.Tensor, labels: tf.Tensor1D, rng: Rng): Promise<tf.Tensor> {
  return attack.generate(student, x, labels, { seed: rng.seed() });
}

/**
 * A view of `model` whose every call runs in training mode, whatever the caller asks: attacks
 * call `logits(x, { training: false })`, so an attack on this view sees the model as PyTorch's
 * `net.train()` would. Batch-norm layers normalise with the batch's own statistics and update
 * their moving averages on every attack iteration; dropout layers draw a fresh mask per call.
 * Weights are shared (and `toLayersModel` kept); disposing the view does nothing.
 */
export function trainingModeView(model: Model): Model {
  return modelView(model, {
    logits: (x) => model.logits(x, { training: true }),
    forward: (x) => model.forward(x, { training: true }),
    dispose: () => {},
  });
}

/** The ε and step size the warm-up allows at one training step. */
export interface ScheduledBudget {
  readonly epsilon: number;
  readonly stepSize: number;
  /** Share of the full budget, in [0, 1]. */
  readonly factor: number;
}

/**
 * The ε warm-up of one training run ({@link WARMUP_PARAMS}): the budget at each (epoch, batch).
 * Both ε and the step size are scaled by one factor: 0 during the clean epochs, then rising
 * linearly per batch to 1 over `warmupEpochs`, then 1 (see {@link warmupFactor}).
 *
 * Constructor parameters:
 * - `settings.epsilon` (required): the full budget ε, reached after the warm-up.
 * - `settings.stepSize` (required): the full step size, scaled with ε.
 * - `settings.cleanEpochs` (default 0): epochs with a zero budget (x′ = x) before the ramp starts.
 * - `settings.warmupEpochs` (default 0 here, i.e. full ε from the first attacked batch; note that
 *   {@link WARMUP_PARAMS} defaults it to 1, so a method's validated params ramp over one epoch):
 *   epochs, fractional allowed, over which the factor rises from 0 to 1.
 * - `batchesPerEpoch` (required): batches in one epoch (`batchesPerEpoch(train.size, batchSize)`),
 *   so the ramp moves per batch, not per epoch.
 *
 * Any object with these fields works, so a method passes its validated params as they are.
 *
 * @example
 * ```ts
 * const schedule = new EpsilonSchedule({ epsilon: 0.3, stepSize: 0.01, warmupEpochs: 1 }, batchesPerEpoch(train.size, batchSize));
 * const { epsilon, stepSize, factor } = schedule.budget(step); // step: { epoch, batch } of the training step
 * ```
 */
export class EpsilonSchedule {
  constructor(
    private readonly settings: Partial<WarmupSettings> & { readonly epsilon: number; readonly stepSize: number },
    private readonly batchesPerEpoch: number,
  ) {}

  /** The budget at `step` (0-based epoch and batch of the training step). */
  budget(step: Pick<StepContext, 'epoch' | 'batch'>): ScheduledBudget {
    const factor = warmupFactor(this.settings, step.epoch, step.batch, this.batchesPerEpoch);
    return { epsilon: this.settings.epsilon * factor, stepSize: this.settings.stepSize * factor, factor };
  }
}

/**
 * The inner attack of one training run under the ε warm-up ({@link EpsilonSchedule}): resolves
 * the named attack once at full budget (so a bad name throws at setup) and, during the ramp, a
 * scaled copy per step. With a zero budget (clean epochs) x′ is a copy of x and no attack runs.
 *
 * Constructor parameters:
 * - `container` (required): the run's DI container, in which `settings.innerAttack` is registered
 *   (a method's `prepare` receives it as `container`).
 * - `settings` (required): the {@link INNER_MAX_PARAMS} values, usually a method's validated params:
 *   `innerAttack` (attack name, default `'pgd'`), `norm` (`'linf'` | `'l2'`, default `'linf'`),
 *   `epsilon` (full ε, default 0.3), `stepSize` (full step, default 0.05), `steps` (default 10),
 *   `randomStart` (default true), and the warm-up's `cleanEpochs` (default 0) and `warmupEpochs`
 *   (default 1 in the bundle; 0 when the field is absent). The defaults are the bundle's: this class
 *   fills none in except the warm-up's (see {@link EpsilonSchedule}). Only the parameters the named
 *   attack declares are passed to it ({@link createInnerAttack}).
 * - `batchesPerEpoch` (required): batches in one epoch, for the per-batch ramp.
 * - `trainingMode` (default false): craft with the student in training mode
 *   ({@link trainingModeView}: dropout and batch-norm as in training); ARD, IAD and CRDND expose it
 *   as their `attackTrainingMode` parameter.
 *
 * The attack's seed is drawn from `step.rng` on every call, attacked or not, so a run's later random
 * draws do not depend on the schedule.
 *
 * @example
 * ```ts
 * // in defineMethod({ …, params: { ...INNER_MAX_PARAMS }, … }):
 * prepare: ({ container, train, batchSize }, params) => new ScheduledInnerAttack(container, params, batchesPerEpoch(train.size, batchSize)),
 * async step({ batch: { x, labels }, step, student, prepared: inner, minimize }) {
 *   const xAdv = await inner.craft(student, x, labels, step); // caller disposes
 *   // …
 * }
 * ```
 */
export class ScheduledInnerAttack {
  readonly schedule: EpsilonSchedule;
  private readonly full: Attack;

  constructor(
    private readonly container: DependencyContainer,
    private readonly settings: InnerMaxSettings,
    batchesPerEpoch: number,
    /** Craft with the student in training mode ({@link trainingModeView}); default false. */
    private readonly trainingMode = false,
  ) {
    this.schedule = new EpsilonSchedule(settings, batchesPerEpoch);
    this.full = createInnerAttack(container, settings);
  }

  /**
   * x′ for this step (a clone of x during clean epochs); the caller disposes it.
   * `x` [batch, ...inputShape], `labels` [batch] int class indices, `step` the training step's
   * epoch, batch and rng.
   */
  craft(student: Model, x: tf.Tensor, labels: tf.Tensor1D, step: Pick<StepContext, 'epoch' | 'batch' | 'rng'>): Promise<tf.Tensor> {
    const { epsilon, stepSize, factor } = this.schedule.budget(step);
    const seed = step.rng.seed(); // drawn even when unused, so later draws do not depend on the schedule
    if (factor === 0 || epsilon === 0) return Promise.resolve(x.clone());
    const attack = factor === 1 ? this.full : createInnerAttack(this.container, { ...this.settings, epsilon, stepSize });
    return attack.generate(this.trainingMode ? trainingModeView(student) : student, x, labels, { seed });
  }
}

export { batchesPerEpoch } from '@tempered/core';
