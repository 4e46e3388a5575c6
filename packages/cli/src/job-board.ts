import { progressBar, stepLine, type ProgressEvent } from '@tempered/core';

/**
 * Progress of jobs running side by side, drawn from the structured events the worker processes
 * send ({@link ProgressEvent}). On a TTY: one live line per running job (its progress bar) below
 * the lines that stay (epoch ends, jobs finished). In CI or when piped: every line that stays and
 * every evaluation step, prefixed with its job id; bars are not drawn.
 */
export class JobBoard {
  private readonly status = new Map<string, string>();
  private drawnLines = 0;

  constructor(
    private readonly options: { readonly tty: boolean; readonly quiet: boolean; readonly stream?: NodeJS.WritableStream } = { tty: false, quiet: false },
  ) {}

  private get stream(): NodeJS.WritableStream {
    return this.options.stream ?? process.stderr;
  }

  /** A job started. */
  start(id: string): void {
    this.status.set(id, 'starting');
    this.redraw();
  }

  /**
   * A progress event of a job: a line stays, prefixed with the job; a step or bar becomes the
   * job's live line on a TTY; in CI a step is a plain line and a fine bar is dropped.
   */
  progress(id: string, event: ProgressEvent): void {
    if (event.type === 'line') {
      if (event.text.trim()) this.line(`[${id}] ${event.text}`);
    } else if (this.options.tty) {
      if (!this.status.has(id)) return; // the job already ended
      this.status.set(id, progressBar(event.done, event.total, event.elapsedMs, event.label));
      this.redraw();
    } else if (event.type === 'step') {
      this.line(`[${id}] ${stepLine(event.done, event.total, event.label)}`);
    }
  }

  /** A job ended; `outcome` says how ("done in 12 s", "stopped"). */
  end(id: string, outcome: string): void {
    this.status.delete(id);
    this.line(`[${id}] ${outcome}`);
  }

  /** A line that stays, printed above the live block. */
  line(text: string): void {
    if (this.options.quiet) return;
    this.clear();
    this.stream.write(`${text}\n`);
    this.redraw();
  }

  /** Removes the live block (before the run's last lines). */
  close(): void {
    this.clear();
  }

  private clear(): void {
    if (!this.options.tty || this.drawnLines === 0) return;
    this.stream.write(`\x1b[${this.drawnLines}A\r\x1b[J`);
    this.drawnLines = 0;
  }

  private redraw(): void {
    if (!this.options.tty || this.options.quiet) return;
    this.clear();
    const columns = (this.stream as NodeJS.WriteStream).columns ?? 120;
    for (const [id, text] of this.status) this.stream.write(`${`${id}: ${text}`.slice(0, columns - 1)}\n`);
    this.drawnLines = this.status.size;
  }
}
