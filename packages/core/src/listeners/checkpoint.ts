import { saveCheckpoint } from '../checkpoint.js';
import type { TrainerEvents, TrainerPlugin } from '../events.js';

export interface CheckpointListenerOptions {
  /** Directory for this model's checkpoints. */
  readonly dir: string;
  readonly seed: number;
  /** Catch SIGINT/SIGTERM: stop after the current batch and checkpoint there. Default true. */
  readonly handleSignals?: boolean;
}

/**
 * Checkpoints at every epoch end and when training stops early (a listener's stop request or
 * SIGINT/SIGTERM), then emits a `checkpoint` event.
 */
export class CheckpointListener implements TrainerPlugin {
  /** The signal that stopped training, if any. */
  signal: NodeJS.Signals | undefined;
  constructor(private readonly options: CheckpointListenerOptions) {}

  attach(trainer: TrainerEvents): void {
    const { dir, seed } = this.options;
    const onSignal = (signal: NodeJS.Signals): void => {
      this.signal = signal;
      trainer.requestStop(signal);
    };
    trainer.on('run:start', () => {
      if (this.options.handleSignals ?? true) {
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }
    });
    trainer.on('epoch:end', async (event) => {
      const path = await saveCheckpoint(dir, { model: event.model, seed }, event.method, event.position);
      await trainer.emit('checkpoint', { model: event.model, path, position: event.position, reason: 'epoch' });
    });
    trainer.on('run:end', async (event) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (!event.stopped) return;
      // Mid-epoch stop: save the exact batch position (an epoch-end stop was saved above already).
      if (event.position.batch > 0) {
        const path = await saveCheckpoint(dir, { model: event.model, seed }, event.method, event.position, event.epochTotals);
        // A stop requested by a signal handler outside this listener (handleSignals: false) names the signal as its reason.
        const bySignal = this.signal !== undefined || event.reason === 'SIGINT' || event.reason === 'SIGTERM';
        await trainer.emit('checkpoint', { model: event.model, path, position: event.position, reason: bySignal ? 'signal' : 'stop' });
      }
    });
  }
}
