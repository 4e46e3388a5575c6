import { TemperedError } from '../errors.js';
import type { TrainerEvents, TrainerPlugin } from '../events.js';

/** Default of {@link DivergenceGuardOptions.lossGrowth}. */
export const DEFAULT_LOSS_GROWTH = 1000;

export interface DivergenceGuardOptions {
  /**
   * Stop when a batch's loss exceeds this many times the first epoch's mean loss (during the
   * first epoch: the mean of its batches so far). Default {@link DEFAULT_LOSS_GROWTH}.
   */
  readonly lossGrowth?: number;
}

/** Training diverged: a loss grew past the guard's factor. Names the model and where. */
export class DivergenceError extends TemperedError {
  constructor(
    readonly model: string,
    readonly phase: string,
    readonly epoch: number,
    readonly batch: number,
    readonly loss: number,
    readonly reference: number,
    readonly lossGrowth: number,
  ) {
    super(
      `model "${model}", phase "${phase}": loss ${loss.toPrecision(3)} at epoch ${epoch}, batch ${batch} is over ${lossGrowth} × the first epoch's mean loss ${reference.toPrecision(3)}: training diverged`,
    );
  }
}

/**
 * The divergence guard, a trainer listener: throws {@link DivergenceError} from `batch:end` when
 * a batch's loss exceeds `lossGrowth` × the first epoch's mean loss of the phase, which stops
 * the run before a checkpoint of the diverged weights is written (attach it before the
 * checkpoint listener). A non-finite loss or weight is stopped by the trainer itself (NumericError).
 * After a resume past the first epoch, the reference is the first epoch this process trains.
 * Losses that start at or below zero are not compared (no meaningful factor).
 */
export class DivergenceGuard implements TrainerPlugin {
  readonly lossGrowth: number;
  constructor(options: DivergenceGuardOptions = {}) {
    this.lossGrowth = options.lossGrowth ?? DEFAULT_LOSS_GROWTH;
  }

  attach(trainer: TrainerEvents): void {
    let firstEpoch: number | undefined;
    let sum = 0;
    let batches = 0;
    let reference: number | undefined;
    trainer.on('phase:start', () => {
      firstEpoch = undefined;
      reference = undefined;
      sum = 0;
      batches = 0;
    });
    trainer.on('batch:end', (event) => {
      firstEpoch ??= event.epoch;
      const current = reference ?? (batches > 0 ? sum / batches : undefined);
      if (current !== undefined && current > 0 && event.loss > this.lossGrowth * current) {
        throw new DivergenceError(event.model, event.phase.name, event.epoch, event.batch, event.loss, current, this.lossGrowth);
      }
      if (event.epoch === firstEpoch && reference === undefined) {
        sum += event.loss;
        batches++;
      }
    });
    trainer.on('epoch:end', (event) => {
      if (event.epoch === firstEpoch && reference === undefined) reference = event.loss;
    });
  }
}
