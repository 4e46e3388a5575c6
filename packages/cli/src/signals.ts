/**
 * How a run stops on SIGINT/SIGTERM. The first signal asks every part of the run to stop at
 * its next safe point (training: after the current batch, then a checkpoint; evaluation: at once,
 * since it writes nothing until results.json); a second signal exits at once. One handler per
 * process, installed for the whole run, so a signal arriving between two jobs is not lost.
 */

/** Exit codes by shell convention: 128 + signal number. */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

export type StopSignal = 'SIGINT' | 'SIGTERM';

export class StopSignals {
  /** The first signal received, if any. */
  signal: StopSignal | undefined;
  private readonly listeners = new Set<(signal: StopSignal) => void>();
  private readonly forceListeners = new Set<() => void>();
  private readonly handler = (signal: NodeJS.Signals): void => this.receive(signal as StopSignal);

  /** `log` says what a second signal does before the process exits (default: a line on stderr). */
  constructor(private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  get stopped(): boolean {
    return this.signal !== undefined;
  }

  get exitCode(): number {
    return SIGNAL_EXIT[this.signal ?? 'SIGINT']!;
  }

  /** Installs the process handlers; returns the uninstaller. */
  install(): () => void {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
    return () => {
      process.off('SIGINT', this.handler);
      process.off('SIGTERM', this.handler);
    };
  }

  /** Called on the first signal (and at once if one came already); returns the unsubscriber. */
  onStop(listener: (signal: StopSignal) => void): () => void {
    if (this.signal) listener(this.signal);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called just before a second signal exits the process (e.g. to kill worker processes). */
  onForce(listener: () => void): () => void {
    this.forceListeners.add(listener);
    return () => this.forceListeners.delete(listener);
  }

  /** Handles a signal as if the process had received it (tests, and signals forwarded over IPC). */
  receive(signal: StopSignal): void {
    if (this.signal) {
      // Said before exiting, so a second Ctrl-C is not mistaken for a clean stop.
      this.log(`second ${signal}: exiting now without waiting for the current batch; --resume continues from the last checkpoint`);
      for (const listener of this.forceListeners) listener();
      process.exit(SIGNAL_EXIT[signal]);
    }
    this.signal = signal;
    for (const listener of this.listeners) listener(signal);
  }
}
