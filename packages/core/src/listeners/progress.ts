import type { TrainerEvents, TrainerPlugin } from '../events.js';

/** Where progress goes: `process.stderr` in Node, or anything with `write` (a browser page's log). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  /** Default: `process.stderr` in Node; in a browser page, the console, one line per call. */
  readonly stream?: ProgressStream;
  /** Nothing but errors. */
  readonly quiet?: boolean;
  /** Force the bar on or off; default: the stream is a TTY and CI is not set. */
  readonly tty?: boolean;
}

// This module is in core's browser entry: `process` is read through globalThis, never named, so a
// page that bundles it neither throws nor needs a shim.
const nodeProcess = (globalThis as { process?: { stderr?: ProgressStream; env?: Record<string, string | undefined> } }).process;

/** The console as a stream, for a browser page: one `console.info` per line written. */
const consoleStream: ProgressStream = {
  write: (text: string) => {
    for (const line of text.split('\n')) if (line) console.info(line);
  },
};

function defaultStream(): ProgressStream {
  return nodeProcess?.stderr ?? consoleStream;
}

/** The bar is drawn on a TTY unless CI is set. */
function drawsBar(stream: ProgressStream): boolean {
  return Boolean(stream.isTTY) && !nodeProcess?.env?.CI;
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

/** A one-line progress bar, e.g. `[#####.....] 50% 12/24 ETA 0:31 label`. */
export function progressBar(done: number, total: number, elapsedMs: number, label = '', width = 24): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  const eta = done > 0 ? (elapsedMs / done) * (total - done) : NaN;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${done}/${total} ETA ${formatDuration(eta)} ${label}`;
}

/**
 * Training progress: a bar with ETA redrawn in place on a TTY; plain lines (one per epoch) in CI
 * or when piped; nothing with `quiet`.
 */
export class ProgressListener implements TrainerPlugin {
  constructor(private readonly options: ProgressOptions = {}) {}

  attach(trainer: TrainerEvents): void {
    if (this.options.quiet) return;
    const stream = this.options.stream ?? defaultStream();
    const tty = this.options.tty ?? drawsBar(stream);
    let epochStart = 0;
    trainer.on('phase:start', (e) => {
      stream.write(`${e.model}: phase ${e.phase.name} (${e.phase.epochs} epochs)\n`);
    });
    trainer.on('epoch:start', () => {
      epochStart = performance.now();
    });
    if (tty) {
      trainer.on('batch:end', (e) => {
        const label = `${e.model}/${e.phase.name} epoch ${e.epoch + 1}/${e.phase.epochs} loss ${e.loss.toFixed(4)}`;
        stream.write(`\r${progressBar(e.batch + 1, e.batches, performance.now() - epochStart, label)}\x1b[K`);
      });
    }
    trainer.on('epoch:end', (e) => {
      const acc = e.accuracy === undefined ? '' : ` acc ${(e.accuracy * 100).toFixed(1)}%`;
      stream.write(
        `${tty ? '\r\x1b[K' : ''}${e.model}/${e.phase.name} epoch ${e.epoch + 1}/${e.phase.epochs} loss ${e.loss.toFixed(4)}${acc} (${formatDuration(e.durationMs)})\n`,
      );
    });
    trainer.on('warning', (e) => {
      stream.write(`warning: ${e.model}: ${e.message}\n`);
    });
    trainer.on('checkpoint', (e) => {
      if (e.reason !== 'epoch') stream.write(`${e.model}: checkpoint saved at ${e.path}\n`);
    });
  }
}

/**
 * Progress of a known number of steps outside training (e.g. evaluation: a clean pass, then each
 * attack, per model): a bar with ETA redrawn in place on a TTY; one plain line per step in CI or
 * when piped; nothing with `quiet`. `note` prints a line without advancing.
 */
export class StepProgress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly started = performance.now();
  private drawn = false;

  constructor(private readonly options: ProgressOptions = {}) {
    this.stream = options.stream ?? defaultStream();
    this.tty = options.tty ?? drawsBar(this.stream);
  }

  /** Step `done + 1` of `total` starts; `label` says what it is. */
  step(done: number, total: number, label: string): void {
    if (this.options.quiet) return;
    if (this.tty) {
      this.stream.write(`\r${progressBar(done, total, performance.now() - this.started, label)}\x1b[K`);
      this.drawn = true;
    } else {
      this.stream.write(`[${done + 1}/${total}] ${label}\n`);
    }
  }

  /** A line that stays (a warning, a skipped part), printed above the bar. */
  note(line: string): void {
    if (this.options.quiet) return;
    this.stream.write(`${this.drawn ? '\r\x1b[K' : ''}${line}\n`);
    this.drawn = false;
  }

  /** Clears the bar and prints the elapsed time. */
  end(label: string): void {
    if (this.options.quiet) return;
    this.note(`${label} (${formatDuration(performance.now() - this.started)})`);
  }
}
