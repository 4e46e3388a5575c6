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
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const board = new JobBoard({ tty, quiet: options.quiet });
  const done = new Set(options.plan.jobs.filter((j) => isDone(options.runDir, j.id)).map((j) => j.id));
  const queue = [...pending];
  const slots: WorkerSlot[] = [];
  let failure: string | undefined;
  let stoppedJobs = 0;
  let finished = false;
  const exits: Array<Promise<void>> = [];

  return new Promise<ScheduleOutcome>((resolve, reject) => {
    const finish = (): void => {
      if (slots.some((s) => s.job)) return;
      const more = !options.stop.stopped && !failure && queue.some((j) => ready(j, done));
      if (more) return;
      if (finished) return;
      finished = true;
      // Workers exit once their IPC channel closes; the run ends after them, never before.
      for (const slot of slots) if (slot.child.connected) slot.child.disconnect();
      void Promise.all(exits).then(() => {
        board.close();
        unsubscribeStop();
        unsubscribeForce();
        if (failure) reject(new JobFailedError(failure));
        else if (options.stop.stopped || stoppedJobs > 0) resolve('stopped');
        else if (queue.length > 0) reject(new JobFailedError(`jobs ${queue.map((j) => j.id).join(', ')} could not start: their dependencies did not finish`));
        else resolve('done');
      });
    };
    const dispatch = (): void => {
      for (const slot of slots) {
        if (!slot.ready || slot.job || options.stop.stopped || failure) continue;
        const next = queue.findIndex((j) => ready(j, done));
        if (next < 0) break;
        const job = queue.splice(next, 1)[0]!;
        slot.job = job;
        slot.startedMs = performance.now();
        board.start(job.id);
        slot.child.send({ type: 'job', id: job.id } satisfies ToWorker);
      }
      finish();
    };
    const onMessage = (slot: WorkerSlot, message: FromWorker): void => {
      if (message.type === 'ready') slot.ready = true;
      else if (message.type === 'progress') board.progress(message.id, message.event);
      else if (message.type === 'finished') {
        const seconds = ((performance.now() - slot.startedMs) / 1000).toFixed(1);
        board.end(message.id, message.stopped ? 'stopped; checkpoint saved' : `done in ${seconds} s`);
        if (message.stopped) stoppedJobs++;
        else done.add(message.id);
        slot.job = undefined;
      } else if (message.type === 'failed') {
        board.end(message.id, `failed: ${message.message}`);
        failure ??= message.id ? `${message.id}: ${message.message}` : `worker process: ${message.message}`;
        slot.job = undefined;
        stopAll();
      }
      dispatch();
    };
    const onExit = (slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void => {
      slot.ready = false;
      if (slot.job) {
        // An evaluation stopped by a signal exits with the signal's code: nothing of it is kept.
        if (options.stop.stopped && (code === SIGNAL_EXIT.SIGINT || code === SIGNAL_EXIT.SIGTERM)) {
          board.end(slot.job.id, 'stopped');
          stoppedJobs++;
        } else {
          failure ??= `${slot.job.id}: worker process exited (${signal ?? `code ${code}`})`;
          stopAll();
        }
        slot.job = undefined;
      }
      dispatch();
    };
    const stopAll = (signal: 'SIGINT' | 'SIGTERM' = 'SIGTERM'): void => {
      for (const slot of slots) if (slot.child.connected) slot.child.send({ type: 'stop', signal } satisfies ToWorker);
    };
    const unsubscribeStop = options.stop.onStop((signal) => {
      board.line(`${signal}: stopping every job at its next batch (again to exit at once)`);
      stopAll(signal);
    });
    const unsubscribeForce = options.stop.onForce(() => {
      for (const slot of slots) slot.child.kill('SIGKILL');
    });

    const init: ToWorker = { type: 'init', config: options.config, plan: options.plan, runDir: options.runDir, baseDir: options.baseDir, quiet: options.quiet, tty };
    for (let i = 0; i < count; i++) {
      // Its own process group: a terminal's Ctrl-C reaches the parent only, which forwards it once.
      const child = fork(WORKER_ENTRY, [], { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const slot: WorkerSlot = { child, ready: false, startedMs: 0 };
      exits.push(new Promise((done) => child.once('exit', () => done())));
      slots.push(slot);
      child.on('message', (message: FromWorker) => onMessage(slot, message));
      child.on('exit', (code, signal) => onExit(slot, code, signal));
      child.on('error', (error) => {
        failure ??= `worker process: ${error.message}`;
        finish();
      });
      child.send(init);
    }
  });
}
