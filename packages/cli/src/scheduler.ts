import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TemperedError } from '@tempered/core/node';
import type { RunConfig } from './config.js';
import { isDone, runJob, type JobContext } from './jobs.js';
import type { FromWorker, ToWorker } from './job-worker.js';
import { JobBoard } from './job-board.js';
import type { Job, Plan } from './plan.js';
import { SIGNAL_EXIT, type StopSignals } from './signals.js';

/**
 * Runs the jobs of a plan that are not done, each once its dependencies are: in this process
 * one after another (`--jobs 1`), or on N worker processes. Each job reads only files, so where
 * it runs changes no weight: every model is bit-identical whatever N is.
 */

export class JobFailedError extends TemperedError {}

export interface ScheduleOptions {
  readonly plan: Plan;
  readonly runDir: string;
  readonly parallel: number;
  readonly config: RunConfig;
  readonly baseDir: string;
  readonly quiet: boolean;
  readonly stop: StopSignals;
  /** For in-process runs. */
  readonly context: () => JobContext;
}

/** 'done' when every job is done, 'stopped' when a signal stopped the run first. */
export type ScheduleOutcome = 'done' | 'stopped';

function ready(job: Job, done: ReadonlySet<string>): boolean {
  return job.dependsOn.every((id) => done.has(id));
}

export async function runPending(options: ScheduleOptions): Promise<ScheduleOutcome> {
  const pending = options.plan.jobs.filter((job) => !isDone(options.runDir, job.id));
  if (pending.length === 0) return 'done';
  const workers = Math.min(options.parallel, pending.length);
  return workers <= 1 ? runInProcess(pending, options) : runOnWorkers(pending, workers, options);
}

async function runInProcess(pending: readonly Job[], options: ScheduleOptions): Promise<ScheduleOutcome> {
  const ctx = options.context();
  for (const job of pending) {
    if (options.stop.stopped) return 'stopped';
    if (!(await runJob(job, ctx))) return 'stopped';
  }
  return options.stop.stopped ? 'stopped' : 'done';
}

const WORKER_ENTRY = fileURLToPath(new URL('./job-worker.js', import.meta.url));

interface WorkerSlot {
  readonly child: ChildProcess;
  ready: boolean;
  job?: Job;
  startedMs: number;
}

function runOnWorkers(pending: readonly Job[], count: number, options: ScheduleOptions): Promise<ScheduleOutcome> {
  return new Promise<ScheduleOutcome>((resolve, reject) => new WorkerRun(pending, options, resolve, reject).start(count));
}

/**
 * One run of the pending jobs on worker processes: hands each idle worker the next job whose
 * dependencies are done, records what each worker reports, and settles once no job runs and none
 * can start (all done, a failure, or a stop signal), after every worker has exited.
 */
class WorkerRun {
  private readonly tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  private readonly board: JobBoard;
  private readonly done: Set<string>;
  private readonly queue: Job[];
  private readonly slots: WorkerSlot[] = [];
  private readonly exits: Array<Promise<void>> = [];
  private failure: string | undefined;
  private stoppedJobs = 0;
  private finished = false;
  private unsubscribeStop = (): void => {};
  private unsubscribeForce = (): void => {};

  constructor(
    pending: readonly Job[],
    private readonly options: ScheduleOptions,
    private readonly resolve: (outcome: ScheduleOutcome) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.board = new JobBoard({ tty: this.tty, quiet: options.quiet });
    this.done = new Set(options.plan.jobs.filter((j) => isDone(options.runDir, j.id)).map((j) => j.id));
    this.queue = [...pending];
  }

  start(count: number): void {
    const { options, board } = this;
    this.unsubscribeStop = options.stop.onStop((signal) => {
      board.line(`${signal}: stopping every job at its next batch (again to exit at once)`);
      this.stopAll(signal);
    });
    this.unsubscribeForce = options.stop.onForce(() => {
      for (const slot of this.slots) slot.child.kill('SIGKILL');
    });
    const init: ToWorker = { type: 'init', config: options.config, plan: options.plan, runDir: options.runDir, baseDir: options.baseDir, quiet: options.quiet, tty: this.tty };
    for (let i = 0; i < count; i++) this.spawn(init);
  }

  private spawn(init: ToWorker): void {
    // Its own process group: a terminal's Ctrl-C reaches the parent only, which forwards it once.
    const child = fork(WORKER_ENTRY, [], { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const slot: WorkerSlot = { child, ready: false, startedMs: 0 };
    this.exits.push(new Promise((done) => child.once('exit', () => done())));
    this.slots.push(slot);
    child.on('message', (message: FromWorker) => this.onMessage(slot, message));
    child.on('exit', (code, signal) => this.onExit(slot, code, signal));
    child.on('error', (error) => {
      this.failure ??= `worker process: ${error.message}`;
      this.finish();
    });
    child.send(init);
  }

  /** Gives every idle worker the next job whose dependencies are done. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.job || this.options.stop.stopped || this.failure) continue;
      const next = this.queue.findIndex((j) => ready(j, this.done));
      if (next < 0) break;
      const job = this.queue.splice(next, 1)[0]!;
      slot.job = job;
      slot.startedMs = performance.now();
      this.board.start(job.id);
      slot.child.send({ type: 'job', id: job.id } satisfies ToWorker);
    }
    this.finish();
  }

  private onMessage(slot: WorkerSlot, message: FromWorker): void {
    if (message.type === 'ready') slot.ready = true;
    else if (message.type === 'progress') this.board.progress(message.id, message.event);
    else if (message.type === 'finished') {
      const seconds = ((performance.now() - slot.startedMs) / 1000).toFixed(1);
      this.board.end(message.id, message.stopped ? 'stopped; checkpoint saved' : `done in ${seconds} s`);
      if (message.stopped) this.stoppedJobs++;
      else this.done.add(message.id);
      slot.job = undefined;
    } else if (message.type === 'failed') {
      this.board.end(message.id, `failed: ${message.message}`);
      this.failure ??= message.id ? `${message.id}: ${message.message}` : `worker process: ${message.message}`;
      slot.job = undefined;
      this.stopAll();
    }
    this.dispatch();
  }

  private onExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    slot.ready = false;
    if (slot.job) {
      // An evaluation stopped by a signal exits with the signal's code: nothing of it is kept.
      if (this.options.stop.stopped && (code === SIGNAL_EXIT.SIGINT || code === SIGNAL_EXIT.SIGTERM)) {
        this.board.end(slot.job.id, 'stopped');
        this.stoppedJobs++;
      } else {
        this.failure ??= `${slot.job.id}: worker process exited (${signal ?? `code ${code}`})`;
        this.stopAll();
      }
      slot.job = undefined;
    }
    this.dispatch();
  }

  private stopAll(signal: 'SIGINT' | 'SIGTERM' = 'SIGTERM'): void {
    for (const slot of this.slots) if (slot.child.connected) slot.child.send({ type: 'stop', signal } satisfies ToWorker);
  }

  /** Settles the run once no job runs and none can start; workers exit first, never after. */
  private finish(): void {
    if (this.slots.some((s) => s.job)) return;
    const more = !this.options.stop.stopped && !this.failure && this.queue.some((j) => ready(j, this.done));
    if (more || this.finished) return;
    this.finished = true;
    // Workers exit once their IPC channel closes; the run ends after them, never before.
    for (const slot of this.slots) if (slot.child.connected) slot.child.disconnect();
    void Promise.all(this.exits).then(() => {
      this.board.close();
      this.unsubscribeStop();
      this.unsubscribeForce();
      if (this.failure) this.reject(new JobFailedError(this.failure));
      else if (this.options.stop.stopped || this.stoppedJobs > 0) this.resolve('stopped');
      else if (this.queue.length > 0) this.reject(new JobFailedError(`jobs ${this.queue.map((j) => j.id).join(', ')} could not start: their dependencies did not finish`));
      else this.resolve('done');
    });
  }
}
