import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors.js';
import { defineParams, validateParams, type ParamValues } from './params.js';

/**
 * The one optimiser definition of every method and the teacher (torchdistill/timm style: a
 * `name` and its settings, given as `params.optimizer`). The default is Adam 1e-3: at
 * temperature T = 20 plain SGD (lr 0.01–0.1, momentum 0.9) sat at chance for 5+ epochs in a
 * PyTorch reference on MNIST, while Adam trained.
 *
 * Weight decay is PyTorch's: for `sgd`, `momentum`, `nesterov` and `adam` it is L2 added to the
 * gradient (g ← g + λ·w, before momentum or moments, as `torch.optim.SGD(weight_decay=λ)`); for
 * `adamw` it is decoupled (w ← w·(1 − lr·λ) before the Adam update, as `torch.optim.AdamW`).
 * Momentum and Nesterov follow `torch.optim.SGD` with dampening 0 (v ← μ·v + g; w ← w − lr·v, or
 * w ← w − lr·(g + μ·v) for Nesterov).
 */
export const OPTIMIZER_PARAMS = defineParams({
  name: { type: 'enum', values: ['adam', 'adamw', 'sgd', 'momentum', 'nesterov'], default: 'adam', description: 'Optimiser' },
  learningRate: { type: 'number', default: 1e-3, greaterThan: 0, description: 'Base learning rate (the schedule scales it)' },
  momentum: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Momentum μ (momentum and nesterov only)' },
  weightDecay: {
    type: 'number',
    default: 0,
    min: 0,
    description: 'Weight decay λ: L2 added to the gradient (sgd, momentum, nesterov, adam), decoupled for adamw (PyTorch semantics)',
  },
  beta1: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Adam β1' },
  beta2: { type: 'number', default: 0.999, min: 0, max: 1, description: 'Adam β2' },
});

export type OptimizerConfig = ParamValues<typeof OPTIMIZER_PARAMS>;

/**
 * The learning-rate schedule of every method and the teacher (`params.schedule`), timm style:
 * a pure function of the training position, evaluated once per epoch (`interval: 'epoch'`,
 * PyTorch's `scheduler.step()` after each epoch, as the TRADES and ARD code do) or before every
 * batch (`interval: 'step'`). Because it is a function of the position alone, a resumed run
 * sets exactly the rate the uninterrupted run had.
 *
 * - `constant`: the base rate.
 * - `piecewise`: base · γ^(milestones passed), milestones in 0-based epochs (PyTorch's
 *   `MultiStepLR`; a paper's 1-based "decay at epoch 75" is milestone 74 when the decay applies
 *   from the 75th epoch).
 * - `cosine`: `minLearningRate + (base − minLearningRate)·(1 + cos(π·t/T))/2` over the epochs after warm-up.
 * - `warmupEpochs` (any schedule): the rate ramps linearly over those epochs, the first epoch
 *   (or batch, with `interval: 'step'`) at base·unit/warmupEpochs, reaching base at the end.
 */
export const SCHEDULE_PARAMS = defineParams({
  name: { type: 'enum', values: ['constant', 'piecewise', 'cosine'], default: 'constant', description: 'Learning-rate schedule' },
  interval: { type: 'enum', values: ['epoch', 'step'], default: 'epoch', description: "When the rate changes: after each epoch ('epoch') or before every batch ('step')" },
  milestones: { type: 'numbers', default: [], min: 0, description: 'piecewise: 0-based epochs at which the rate is multiplied by gamma' },
  gamma: { type: 'number', default: 0.1, greaterThan: 0, description: 'piecewise: factor applied at each milestone' },
  minLearningRate: { type: 'number', default: 0, min: 0, description: 'cosine: the final rate' },
  warmupEpochs: { type: 'number', default: 0, min: 0, description: 'Epochs of linear learning-rate warm-up (0 = none)' },
});

export type ScheduleConfig = ParamValues<typeof SCHEDULE_PARAMS>;

/** Where in training a learning rate is asked for. */
export interface SchedulePosition {
  /** 0-based epoch of the phase. */
  readonly epoch: number;
  /** 0-based batch within the epoch. */
  readonly batch: number;
  readonly batchesPerEpoch: number;
  /** Epochs of the phase. */
  readonly epochs: number;
}

/** A phase's learning rate as a function of its position (see {@link SCHEDULE_PARAMS}). */
export interface LearningRateSchedule {
  rateAt(position: SchedulePosition): number;
}

/** The schedule of a validated config around base rate `base`. */
export function createSchedule(config: Partial<ScheduleConfig>, base: number, field = 'schedule'): LearningRateSchedule {
  const c = validateParams(field, SCHEDULE_PARAMS, config);
  return { rateAt: (position) => learningRateAt(c, base, position) };
}

/** The learning rate of schedule `c` with base rate `base` at `position`. */
export function learningRateAt(c: ScheduleConfig, base: number, { epoch, batch, batchesPerEpoch, epochs }: SchedulePosition): number {
  const t = c.interval === 'step' ? epoch + batch / Math.max(1, batchesPerEpoch) : epoch;
  const unit = c.interval === 'step' ? 1 / Math.max(1, batchesPerEpoch) : 1;
  // Linear warm-up: the first unit (epoch or batch) runs at base·unit/warmupEpochs, the last at base.
  if (c.warmupEpochs > 0 && t < c.warmupEpochs) return Math.min(base, (base * (t + unit)) / c.warmupEpochs);
  switch (c.name) {
    case 'constant':
      return base;
    case 'piecewise': {
      const passed = c.milestones.filter((m) => t >= m).length;
      return base * c.gamma ** passed;
    }
    case 'cosine': {
      const span = Math.max(unit, epochs - c.warmupEpochs);
      const progress = Math.min(1, (t - c.warmupEpochs) / span);
      return c.minLearningRate + ((base - c.minLearningRate) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}

/** How an optimiser applies weight decay (see {@link OPTIMIZER_PARAMS}). */
export interface WeightDecay {
  readonly mode: 'l2' | 'decoupled';
  readonly rate: number;
}

const decays = new WeakMap<tf.Optimizer, WeightDecay>();

/** The weight decay {@link createOptimizer} gave `optimizer`, if any ({@link optimizeStep} applies it). */
export function weightDecayOf(optimizer: tf.Optimizer): WeightDecay | undefined {
  return decays.get(optimizer);
}

/** The learning rate an optimiser uses now. */
export function learningRateOf(optimizer: tf.Optimizer): number | undefined {
  const rate = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  return typeof rate === 'number' ? rate : undefined;
}

/** Sets the learning rate of a tfjs optimiser (no-op when unchanged, so a constant rate touches nothing). */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  if (learningRateOf(optimizer) === rate) return;
  const target = optimizer as unknown as { learningRate: number; setLearningRate?: (rate: number) => void };
  // SGD and momentum keep the rate as a scalar tensor too; Adam reads the number each step.
  if (typeof target.setLearningRate === 'function') target.setLearningRate(rate);
  else target.learningRate = rate;
}

/** Creates a tfjs optimiser from a (partial, validated) config; weight decay is applied by {@link optimizeStep}. */
export function createOptimizer(config: Partial<OptimizerConfig> = {}, field = 'optimizer'): tf.Optimizer {
  const c = validateParams(field, OPTIMIZER_PARAMS, config);
  const optimizer = build(c);
  if (c.weightDecay > 0) decays.set(optimizer, { mode: c.name === 'adamw' ? 'decoupled' : 'l2', rate: c.weightDecay });
  return optimizer;
}

function build(c: OptimizerConfig): tf.Optimizer {
  switch (c.name) {
    case 'sgd':
      return tf.train.sgd(c.learningRate);
    case 'momentum':
    case 'nesterov': {
      const optimizer = tf.train.momentum(c.learningRate, c.momentum, c.name === 'nesterov');
      // tfjs 4.22's MomentumOptimizer.dispose() skips SGDOptimizer's learning-rate scalar `c`,
      // leaking one tensor per optimiser; release it too.
      const dispose = optimizer.dispose.bind(optimizer);
      optimizer.dispose = () => {
        dispose();
        const rate = (optimizer as unknown as { c?: tf.Tensor }).c;
        if (rate && !rate.isDisposed) rate.dispose();
      };
      return optimizer;
    }
    case 'adam':
    case 'adamw':
      return tf.train.adam(c.learningRate, c.beta1, c.beta2);
  }
}

/**
 * A method's `optimizer` and `schedule` params from what a config gave: the object form, or the
 * flat keys of earlier releases (`optimizer: 'sgd'`, `learningRate`, `momentum` at the top of
 * `params`), folded into the object. Giving a setting both ways is refused.
 */
export function foldFlatOptimizerKeys(owner: string, raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { optimizer, learningRate, momentum, ...rest } = raw;
  if (learningRate === undefined && momentum === undefined && (optimizer === undefined || typeof optimizer === 'object')) return { ...raw };
  const nested: Record<string, unknown> = typeof optimizer === 'string' ? { name: optimizer } : optimizer && typeof optimizer === 'object' ? { ...(optimizer as object) } : {};
  if (optimizer !== undefined && typeof optimizer !== 'string' && (typeof optimizer !== 'object' || optimizer === null)) {
    throw new ConfigError(`${owner}.optimizer`, `expected { name, learningRate, … } or an optimiser name, got ${JSON.stringify(optimizer)}`);
  }
  for (const [key, value] of Object.entries({ learningRate, momentum })) {
    if (value === undefined) continue;
    if (nested[key] !== undefined) throw new ConfigError(`${owner}.${key}`, `given twice; give it once, as ${owner}.optimizer.${key}`);
    nested[key] = value;
  }
  return { ...rest, optimizer: nested };
}
