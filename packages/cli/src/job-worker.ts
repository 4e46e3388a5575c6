import * as tf from '@tensorflow/tfjs';
import { oneLineError, selectBackend, type ProgressEvent } from '@tempered/core/node';
import type { RunConfig } from './config.js';
import { datasetLoader, runJob, type JobContext } from './jobs.js';
import type { Plan } from './plan.js';
import { runContainer } from './run.js';
import { StopSignals, type StopSignal } from './signals.js';

/**
 * A worker process of `tempered run --jobs N`: it sets up the run once (plugins, backend,
 * dataset), then runs the jobs its parent sends, one at a time, and reports their progress and
 * outcome over IPC. It stops with its parent: a stop message works like SIGINT/SIGTERM, and a
 * lost IPC channel (the parent died, even by SIGKILL) ends it at once.
 */

export type ToWorker =
  | { type: 'init'; config: RunConfig; plan: Plan; runDir: string; baseDir: string; quiet: boolean; tty: boolean }
  | { type: 'job'; id: string }
  | { type: 'stop'; signal: StopSignal };

export type FromWorker =
  | { type: 'ready' }
  /** Progress of the running job as data (the parent draws it), never drawn text. */
  | { type: 'progress'; id: string; event: ProgressEvent }
  | { type: 'finished'; id: string; stopped: boolean }
  | { type: 'failed'; id: string; message: string };

function send(message: FromWorker): void {
  process.send?.(message);
}

let current = '';
const stop = new StopSignals();
// The parent decides when to give up on a worker (it SIGKILLs it); here every stop is the first.
const once = (signal: StopSignal): void => {
  if (!stop.stopped) stop.receive(signal);
};
process.on('SIGINT', () => once('SIGINT'));
process.on('SIGTERM', () => once('SIGTERM'));
process.on('disconnect', () => process.exit(1));

/** Progress events for the parent, tagged with the job they belong to. */
const progressSink = (event: ProgressEvent): void => send({ type: 'progress', id: current, event });

let context: { ctx: JobContext; plan: Plan } | undefined;
let queue: Promise<void> = Promise.resolve();

async function init(message: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  // --quiet: no tfjs banner from this process either.
  if (message.quiet) tf.env().set('PROD', true);
  const { container, pluginModules } = await runContainer(message.config, message.baseDir);
  const backend = await selectBackend(message.config.backend);
  const ctx: JobContext = {
    config: message.config,
    runDir: message.runDir,
    container,
    pluginModules,
    backend,
    quiet: message.quiet,
    log: (text) => progressSink({ type: 'line', text }),
    stop,
    progressSink,
    // Fine bars only when the parent draws on a terminal.
    progressTty: message.tty,
    // Evaluation keeps nothing partial; the parent sees the exit code and reports the stop.
    abortEvaluation: () => process.exit(stop.exitCode),
    splits: datasetLoader(container, message.config),
  };
  context = { ctx, plan: message.plan };
  send({ type: 'ready' });
}

async function run(id: string): Promise<void> {
  const job = context!.plan.jobs.find((j) => j.id === id);
  current = id;
  try {
    if (!job) throw new Error(`unknown job ${id}`);
    const finished = await runJob(job, context!.ctx);
    send({ type: 'finished', id, stopped: !finished });
  } catch (error) {
    send({ type: 'failed', id, message: oneLineError(error) });
  }
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'stop') return once(message.signal);
  queue = queue.then(() => (message.type === 'init' ? init(message) : run(message.id))).catch((error) => {
    send({ type: 'failed', id: current, message: oneLineError(error) });
  });
});
