import type { TrainerEvents, TrainerPlugin } from '../events.js';

/**
 * Progress as data, so it can cross a process boundary and be drawn by whoever owns the terminal
 * (a worker of `tempered run --jobs N` sends these to its parent, which draws every job's bar).
 * - `line`: a line that stays (an epoch's loss, a note).
 * - `step`: step `done + 1` of `total` of a coarse count (evaluation: a clean pass, an attack):
 *   a bar on a TTY, one plain line each in CI.
 * - `bar`: fine progress (a batch within an epoch): a bar on a TTY, nothing in CI.
 */
export type ProgressEvent =
  | { readonly type: 'line'; readonly text: string }
  | { readonly type: 'step' | 'bar'; readonly done: number; readonly total: number; readonly elapsedMs: number; readonly label: string };

/** Where progress events go. */
export type ProgressSink = (event: ProgressEvent) => void;

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
  /** Send events here instead of drawing them on `stream` (with `tty` false, no `bar` event is sent). */
  readonly sink?: ProgressSink;
}

/** `[n/total] label`, the plain line of a step in CI. */
export function stepLine(done: number, total: number, label: string): string {
  return `[${done + 1}/${total}] ${label}`;
}

/**
 * Draws progress events on a stream: on a TTY a bar redrawn in place under the lines that stay;
 * otherwise plain lines (steps as `[n/total] label`, fine bars dropped).
 */
export function terminalSink(stream: ProgressStream, tty: boolean): ProgressSink {
  let drawn = false;
  return (event) => {
    if (event.type === 'line') {
      stream.write(`${drawn ? '\r\x1b[K' : ''}${event.text}\n`);
      drawn = false;
    } else if (tty) {
      stream.write(`\r${progressBar(event.done, event.total, event.elapsedMs, event.label)}\x1b[K`);
      drawn = true;
    } else if (event.type === 'step') {
      stream.write(`${stepLine(event.done, event.total, event.label)}\n`);
    }
  };
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

function sinkOf(options: ProgressOptions): { sink: ProgressSink; tty: boolean } {
  const stream = options.stream ?? defaultStream();
  const tty = options.tty ?? (options.sink ? false : drawsBar(stream));
  return { sink: options.sink ?? terminalSink(stream, tty), tty };
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
    const { sink, tty } = sinkOf(this.options);
    const line = (text: string) => sink({ type: 'line', text });
    let epochStart = 0;
    trainer.on('phase:start', (e) => line(`${e.model}: phase ${e.phase.name} (${e.phase.epochs} epochs)`));
    trainer.on('epoch:start', () => {
      epochStart = performance.now();
    });
    if (tty) {
      trainer.on('batch:end', (e) => {
        const label = `${e.model}/${e.phase.name} epoch ${e.epoch + 1}/${e.phase.epochs} loss ${e.loss.toFixed(4)}`;
        sink({ type: 'bar', done: e.batch + 1, total: e.batches, elapsedMs: performance.now() - epochStart, label });
      });
    }
    trainer.on('epoch:end', (e) => {
      const on = e.accuracyOn === 'adversarial' ? ' on x′' : e.accuracyOn === 'clean' ? ' on clean x' : '';
      const acc = e.accuracy === undefined ? '' : ` acc${on} ${(e.accuracy * 100).toFixed(1)}%`;
      line(`${e.model}/${e.phase.name} epoch ${e.epoch + 1}/${e.phase.epochs} loss ${e.loss.toFixed(4)}${acc} (${formatDuration(e.durationMs)})`);
    });
    trainer.on('warning', (e) => line(`warning: ${e.model}: ${e.message}`));
    trainer.on('checkpoint', (e) => {
      if (e.reason !== 'epoch') line(`${e.model}: checkpoint saved at ${e.path}`);
    });
  }
}

/**
 * Progress of a known number of steps outside training (e.g. evaluation: a clean pass, then each
 * attack, per model): a bar with ETA redrawn in place on a TTY; one plain line per step in CI or
 * when piped; nothing with `quiet`. `note` prints a line without advancing.
 */
export class StepProgress {
  private readonly sink: ProgressSink;
  private readonly started = performance.now();

  constructor(private readonly options: ProgressOptions = {}) {
    this.sink = sinkOf(options).sink;
  }

  /** Step `done + 1` of `total` starts; `label` says what it is. */
  step(done: number, total: number, label: string): void {
    if (!this.options.quiet) this.sink({ type: 'step', done, total, elapsedMs: performance.now() - this.started, label });
  }

  /** A line that stays (a warning, a skipped part), printed above the bar. */
  note(line: string): void {
    if (!this.options.quiet) this.sink({ type: 'line', text: line });
  }

  /** Clears the bar and prints the elapsed time. */
  end(label: string): void {
    this.note(`${label} (${formatDuration(performance.now() - this.started)})`);
  }
}
