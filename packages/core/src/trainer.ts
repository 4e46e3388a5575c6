import * as tf from '@tensorflow/tfjs';
import { EventEmitter } from 'eventemitter3';
import { NumericError, TemperedError, TrainingStepError } from './errors.js';
import type {
  TrainerControl,
  TrainerEventMap,
  TrainerEventName,
  TrainerEvents,
  TrainerListener,
  TrainerPlugin,
  TrainerPosition,
} from './events.js';
import { Rng, deriveSeed, permutation } from './random.js';
import { batchIndices, batchesPerEpoch } from './data.js';
import { EpochAccumulator, type EpochTotals } from './epoch-totals.js';
import { learningRateOf, setLearningRate } from './optimizers.js';
import type { Dataset, StepResult, TrainingMethod, TrainingPhase } from './types.js';

/**
 * One macrotask turn (setImmediate in Node, a zero timeout in browsers). Long loops of tensor
 * work await only resolved promises, which never let the event loop run: signal handlers,
 * timers and worker messages wait until the loop ends unless it yields.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

export interface TrainOptions {
  /** Name of the model being produced, used in events, errors and checkpoints. */
  readonly model: string;
  readonly train: Dataset;
  readonly batchSize: number;
  /** Run seed: shuffling and per-step random streams derive from it and the position. */
  readonly seed: number;
  /** Continue from this position (after the caller restored a checkpoint). */
  readonly resume?: TrainerPosition;
  /** The resumed epoch's running sums (from the checkpoint), so that epoch reports what an uninterrupted one would. */
  readonly resumeTotals?: EpochTotals;
  /** Optional per-epoch evaluation, emitted as an `evaluation` event. */
  readonly evaluate?: (phase: string, epoch: number) => Promise<Record<string, number>>;
}

export interface TrainOutcome {
  readonly stopped: boolean;
  readonly reason?: string;
  readonly position: TrainerPosition;
}

/**
 * Runs a method's phases epoch by epoch, batch by batch, emitting typed events. Listeners are
 * awaited in registration order; any of them may request a stop, honoured after the current
 * batch. Progress, logging, checkpoints and early stopping are listeners, not trainer code.
 */
export class Trainer implements TrainerEvents {
  private readonly emitter = new EventEmitter();
  private stopReason: string | undefined;
  private readonly control: TrainerControl = {
    stop: (reason: string) => {
      this.stopReason ??= reason;
    },
    get stopRequested() {
      return false;
    },
  };

  constructor() {
    const self = this;
    Object.defineProperty(this.control, 'stopRequested', { get: () => self.stopReason !== undefined });
  }

  on<E extends TrainerEventName>(event: E, listener: TrainerListener<E>): this {
    this.emitter.on(event, listener);
    return this;
  }

  off<E extends TrainerEventName>(event: E, listener: TrainerListener<E>): this {
    this.emitter.off(event, listener);
    return this;
  }

  /** Attaches listener objects (progress bar, JSONL log, checkpoints, early stopping...). */
  use(...plugins: TrainerPlugin[]): this {
    for (const plugin of plugins) plugin.attach(this);
    return this;
  }

  /** Emits an event and awaits every listener in order. */
  async emit<E extends TrainerEventName>(event: E, payload: TrainerEventMap[E]): Promise<void> {
    for (const listener of this.emitter.listeners(event) as TrainerListener<E>[]) {
      await listener(payload, this.control);
    }
  }

  /** Asks the trainer to stop after the current batch. */
  requestStop(reason: string): void {
    this.control.stop(reason);
  }

  get stopRequested(): boolean {
    return this.stopReason !== undefined;
  }

  async warn(model: string, message: string): Promise<void> {
    await this.emit('warning', { model, message });
  }

  /**
   * Trains `method` (already set up) through all its phases, from `options.resume` when given:
   * each phase runs {@link runEpoch} per epoch, which runs {@link runStep} per batch.
   */
  async run(method: TrainingMethod, options: TrainOptions): Promise<TrainOutcome> {
    const { model, train, batchSize, seed } = options;
    const phases = method.phases();
    const started = performance.now();
    let position: TrainerPosition = options.resume ?? { phase: 0, epoch: 0, batch: 0, step: 0 };
    this.stopReason = undefined;
    await this.emit('run:start', { model, method, phases: phases.map((p) => p.name), resumedFrom: options.resume });

    // The running sums of the epoch being trained: a mid-epoch stop hands them to the checkpoint.
    let epochTotals: EpochTotals | undefined;
    const finish = async (stopped: boolean): Promise<TrainOutcome> => {
      const reason = this.stopReason;
      const totals = stopped && position.batch > 0 ? epochTotals : undefined;
      await this.emit('run:end', { model, method, stopped, reason, position, durationMs: performance.now() - started, epochTotals: totals });
      return { stopped, reason, position };
    };

    for (let phaseIndex = position.phase; phaseIndex < phases.length; phaseIndex++) {
      const phase = phases[phaseIndex]!;
      const run: PhaseRun = { model, method, phase, phaseIndex, options, batches: batchesPerEpoch(train.size, batchSize) };
      if (phaseIndex !== position.phase) position = { phase: phaseIndex, epoch: 0, batch: 0, step: 0 };
      await this.emit('phase:start', { model, method, phase, phaseIndex });
      await phase.beforePhase?.({ train, batchSize, seed });
      for (let epoch = position.epoch; epoch < phase.epochs; epoch++) {
        const outcome = await this.runEpoch(run, epoch, position);
        position = outcome.position;
        epochTotals = outcome.totals;
        if (outcome.interrupted) return finish(true);
        if (this.stopReason !== undefined) {
          if (epoch + 1 >= phase.epochs) position = await this.endPhase(run);
          return finish(true);
        }
      }
      position = await this.endPhase(run);
    }
    return finish(false);
  }

  private async endPhase({ model, method, phase, phaseIndex, options }: PhaseRun): Promise<TrainerPosition> {
    await phase.afterPhase?.({ train: options.train, batchSize: options.batchSize, seed: options.seed });
    await this.emit('phase:end', { model, method, phase, phaseIndex });
    return { phase: phaseIndex + 1, epoch: 0, batch: 0, step: 0 };
  }

  /**
   * One epoch of `run`'s phase from `start` (batch 0, or a resumed batch): a seeded shuffle, one
   * {@link runStep} per batch, the weight check and the `epoch:end` summary. `interrupted`: a
   * stop was requested before the epoch's last batch.
   */
  private async runEpoch(run: PhaseRun, epoch: number, start: TrainerPosition): Promise<{ position: TrainerPosition; interrupted: boolean; totals: EpochTotals }> {
    const { model, method, phase, phaseIndex, options, batches } = run;
    const base = { model, method, phase, phaseIndex };
    const epochStarted = performance.now();
    await this.emit('epoch:start', { ...base, epoch, batches });
    const order = permutation(options.train.size, new Rng(deriveSeed(options.seed, 'shuffle', model, streamName(phase), epoch)));
    const resumedMidEpoch = phaseIndex === options.resume?.phase && epoch === options.resume.epoch && start.batch > 0;
    const sums = new EpochAccumulator(resumedMidEpoch ? options.resumeTotals : undefined);
    let position = start;
    let batch = 0;
    for (const indices of batchIndices(order, options.batchSize)) {
      if (batch < start.batch) {
        batch++;
        continue;
      }
      const result = await this.runStep(run, epoch, batch, indices, position);
      sums.add(result, indices.length);
      batch++;
      position = { phase: phaseIndex, epoch, batch, step: position.step + 1 };
      await this.emit('batch:end', { ...base, epoch, batch: batch - 1, batches, loss: result.loss, terms: result.terms ?? {}, learningRate: result.learningRate, position });
      // Without this turn a SIGINT/SIGTERM handler would wait for the whole training to end.
      await yieldToEventLoop();
      if (this.stopReason !== undefined && batch < batches) return { position, interrupted: true, totals: sums.totals() };
    }
    const weightsOk = tf.tidy(() => phase.model.trainableVariables().every((v) => tf.all(tf.isFinite(v)).dataSync()[0] === 1));
    if (!weightsOk) {
      const error = new NumericError(model, epoch, batch - 1, 'a weight');
      await this.emit('error', { model, error, position });
      throw error;
    }
    position = { phase: phaseIndex, epoch: epoch + 1, batch: 0, step: position.step };
    await this.emit('epoch:end', {
      ...base,
      epoch,
      ...sums.means(),
      learningRate: learningRateOf(phase.optimizer),
      learningRates: sums.rates(),
      numTensors: tf.memory().numTensors,
      durationMs: performance.now() - epochStarted,
      position,
    });
    if (options.evaluate) {
      const metrics = await options.evaluate(phase.name, epoch);
      await this.emit('evaluation', { model, phase: phase.name, epoch, metrics });
    }
    return { position, interrupted: false, totals: sums.totals() };
  }

  /**
   * One step: the schedule's learning rate is set on the phase's optimiser (the only place a
   * rate changes), the batch is gathered, the phase's step runs on its seeded stream and the
   * batch tensors are released. A non-finite loss or a plugin's error becomes a typed error.
   */
  private async runStep(run: PhaseRun, epoch: number, batch: number, indices: Int32Array, position: TrainerPosition): Promise<StepResult & { learningRate?: number }> {
    const { model, method, phase, phaseIndex, options, batches } = run;
    await this.emit('batch:start', { model, method, phase, phaseIndex, epoch, batch, batches });
    if (phase.schedule) setLearningRate(phase.optimizer, phase.schedule.rateAt({ epoch, batch, batchesPerEpoch: batches, epochs: phase.epochs }));
    const learningRate = learningRateOf(phase.optimizer);
    const rng = new Rng(deriveSeed(options.seed, 'step', model, streamName(phase), epoch, batch));
    const data = options.train.batch(indices);
    try {
      const result = await phase.trainStep({ x: data.x, labels: data.labels, indices }, { phase: phase.name, epoch, batch, step: position.step, rng });
      if (!Number.isFinite(result.loss)) throw new NumericError(model, epoch, batch, `loss (${result.loss})`);
      return { ...result, learningRate };
    } catch (thrown) {
      // A plugin's own error would name no model or batch; Tempered's own errors already do.
      const error = thrown instanceof TemperedError ? thrown : new TrainingStepError(model, phase.name, epoch, batch, thrown);
      await this.emit('error', { model, error, position });
      throw error;
    } finally {
      data.x.dispose();
      data.labels.dispose();
    }
  }
}

/** One phase being trained, with what its epochs and steps need. */
interface PhaseRun {
  readonly model: string;
  readonly method: TrainingMethod;
  readonly phase: TrainingPhase;
  readonly phaseIndex: number;
  readonly options: TrainOptions;
  readonly batches: number;
}

/** The name a phase's random streams derive from (see {@link TrainingPhase.streamName}). */
function streamName(phase: TrainingPhase): string {
  return phase.streamName ?? phase.name;
}
