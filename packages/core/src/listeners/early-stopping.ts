import type { TrainerEvents, TrainerPlugin } from '../events.js';

export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. Default 3. */
  readonly patience?: number;
  /** Smallest decrease of the loss that counts as improvement. Default 0. */
  readonly minDelta?: number;
}

/** Stops training when the epoch loss has not improved for `patience` epochs (per phase). */
export class EarlyStopping implements TrainerPlugin {
  private best = Infinity;
  private waited = 0;
  constructor(private readonly options: EarlyStoppingOptions = {}) {}

  attach(trainer: TrainerEvents): void {
    const patience = this.options.patience ?? 3;
    const minDelta = this.options.minDelta ?? 0;
    trainer.on('phase:start', () => {
      this.best = Infinity;
      this.waited = 0;
    });
    trainer.on('epoch:end', (event, control) => {
      if (event.loss < this.best - minDelta) {
        this.best = event.loss;
        this.waited = 0;
      } else if (++this.waited >= patience) {
        control.stop(`early stopping: loss has not improved for ${patience} epochs`);
      }
    });
  }
}
