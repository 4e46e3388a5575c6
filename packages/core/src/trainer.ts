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
import { batchIndices } from './data.js';
import type { AccuracyInput, Dataset, DistillationMethod, StepResult } from './types.js';

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

  /** Trains `method` (already set up) through all its phases. */
  async run(method: DistillationMethod, options: TrainOptions): Promise<TrainOutcome> {
    const { model, train, batchSize, seed } = options;
    const phases = method.phases();
    const started = performance.now();
    let position: TrainerPosition = options.resume ?? { phase: 0, epoch: 0, batch: 0, step: 0 };
    this.stopReason = undefined;
    await this.emit('run:start', { model, method, phases: phases.map((p) => p.name), resumedFrom: options.resume });

    const finish = async (stopped: boolean): Promise<TrainOutcome> => {
      const reason = this.stopReason;
      await this.emit('run:end', { model, method, stopped, reason, position, durationMs: performance.now() - started });
      return { stopped, reason, position };
    };

    for (let phaseIndex = position.phase; phaseIndex < phases.length; phaseIndex++) {
      const phase = phases[phaseIndex]!;
      const base = { model, method, phase, phaseIndex };
      if (phaseIndex !== position.phase) position = { phase: phaseIndex, epoch: 0, batch: 0, step: 0 };
      await this.emit('phase:start', base);
      await phase.beforePhase?.({ train, batchSize, seed });
      const batches = Math.ceil(train.size / batchSize);

      for (let epoch = position.epoch; epoch < phase.epochs; epoch++) {
        const epochStarted = performance.now();
        await this.emit('epoch:start', { ...base, epoch, batches });
        const order = permutation(train.size, new Rng(deriveSeed(seed, 'shuffle', model, phase.name, epoch)));
        let lossSum = 0;
        let correct = 0;
        let seen = 0;
        let counted = 0;
        let reportsCorrect = false;
        // What the epoch's accuracy is measured on: what the steps declared, unless they disagreed.
        let accuracyOn: AccuracyInput | null | undefined;
        const termSums: Record<string, number> = {};
        let batch = 0;
        for (const indices of batchIndices(order, batchSize)) {
          if (batch < position.batch) {
            batch++;
            continue;
          }
          await this.emit('batch:start', { ...base, epoch, batch, batches });
          const rng = new Rng(deriveSeed(seed, 'step', model, phase.name, epoch, batch));
          const data = train.batch(indices);
          let result: StepResult;
          try {
            result = await phase.trainStep(
              { x: data.x, labels: data.labels, indices },
              { phase: phase.name, epoch, batch, step: position.step, rng },
            );
            if (!Number.isFinite(result.loss)) throw new NumericError(model, epoch, batch, `loss (${result.loss})`);
          } catch (thrown) {
            // A plugin's own error would name no model or batch; Tempered's own errors already do.
            const error = thrown instanceof TemperedError ? thrown : new TrainingStepError(model, phase.name, epoch, batch, thrown);
            await this.emit('error', { model, error, position });
            throw error;
          } finally {
            data.x.dispose();
            data.labels.dispose();
          }
          lossSum += result.loss;
          counted++;
          seen += indices.length;
          if (result.correct !== undefined) {
            reportsCorrect = true;
            accuracyOn = accuracyOn === undefined ? (result.accuracyOn ?? null) : accuracyOn === result.accuracyOn ? accuracyOn : null;
            correct += result.correct;
          }
          for (const [name, value] of Object.entries(result.terms ?? {})) termSums[name] = (termSums[name] ?? 0) + value;
          batch++;
          position = { phase: phaseIndex, epoch, batch, step: position.step + 1 };
          await this.emit('batch:end', { ...base, epoch, batch: batch - 1, batches, loss: result.loss, terms: result.terms ?? {}, position });
          // Without this turn a SIGINT/SIGTERM handler would wait for the whole training to end.
          await yieldToEventLoop();
          if (this.stopReason !== undefined && batch < batches) return finish(true);
        }
        const weightsOk = tf.tidy(() =>
          phase.model.trainableVariables().every((v) => tf.all(tf.isFinite(v)).dataSync()[0] === 1),
        );
        if (!weightsOk) {
          const error = new NumericError(model, epoch, batch - 1, 'a weight');
          await this.emit('error', { model, error, position });
          throw error;
        }
        position = { phase: phaseIndex, epoch: epoch + 1, batch: 0, step: position.step };
        const terms: Record<string, number> = {};
        for (const [name, sum] of Object.entries(termSums)) terms[name] = sum / Math.max(1, counted);
        await this.emit('epoch:end', {
          ...base,
          epoch,
          loss: lossSum / Math.max(1, counted),
          terms,
          accuracy: reportsCorrect && seen > 0 ? correct / seen : undefined,
          ...(reportsCorrect && accuracyOn ? { accuracyOn } : {}),
          numTensors: tf.memory().numTensors,
          durationMs: performance.now() - epochStarted,
          position,
        });
        if (options.evaluate) {
          const metrics = await options.evaluate(phase.name, epoch);
          await this.emit('evaluation', { model, phase: phase.name, epoch, metrics });
        }
        if (this.stopReason !== undefined) {
          if (epoch + 1 >= phase.epochs) {
            await phase.afterPhase?.({ train, batchSize, seed });
            await this.emit('phase:end', base);
            position = { phase: phaseIndex + 1, epoch: 0, batch: 0, step: 0 };
          }
          return finish(true);
        }
      }
      await phase.afterPhase?.({ train, batchSize, seed });
      await this.emit('phase:end', base);
      position = { phase: phaseIndex + 1, epoch: 0, batch: 0, step: 0 };
    }
    return finish(false);
  }
}
