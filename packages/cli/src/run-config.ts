import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { ConfigError, OutputExistsError, TOKENS, createPlugin, removeStaleTemporaries, selectBackend, writeJsonAtomic, type BackendInfo, type TrainingMethod } from '@tempered/core/node';
import type { PluginRef, RunConfig } from './config.js';
import { datasetLoader, divergedJobs, loadTeacher, type JobContext } from './jobs.js';
import { LockHeldError, acquireLock, describeHolder, liveHolder, runLockPath, type Lock } from './lock.js';
import { isDirectory, removeRunFiles } from './run-layout.js';
import { buildPlan, formatPlan, type Shard, type TeacherUse } from './plan.js';
import { checkOutputDir, preflight, readRunState, teacherRolesOf, runContainer, statePath, type RunOptions, type RunState } from './run.js';
import { runPending } from './scheduler.js';
import { runShardJobs } from './shard.js';
import { StopSignals } from './signals.js';

export interface RunCommandOptions extends RunOptions {
  /** Print the plan and exit, writing nothing. */
  readonly printPlan?: boolean;
  /** Worker processes for independent jobs (default: the number of cores). */
  readonly jobs?: number;
  readonly shard?: Shard;
  /** With a shard: only the jobs of this plan step. */
  readonly step?: number;
  /** The command that continues this run, for the line printed when a signal stops it. */
  readonly resumeCommand: string;
  /** Where `--plan` prints (stdout). */
  readonly print?: (line: string) => void;
}

/** Whether a method distils from a teacher with these params ('optional' methods may say no, e.g. defensive distillation training its own). */
export function teacherUse(container: DependencyContainer, ref: PluginRef): TeacherUse {
  const method = createPlugin(container, TOKENS.Method, ref.name, ref.params) as TrainingMethod;
  const use = method.teacher === 'optional' && method.usesTeacher?.() === false ? 'none' : method.teacher;
  method.dispose();
  return use;
}

/** Whether a method declares it trains without a teacher and without adversarial examples (a fair transfer source). */
export function trainsClean(container: DependencyContainer, ref: PluginRef): boolean {
  const method = createPlugin(container, TOKENS.Method, ref.name, ref.params) as TrainingMethod;
  const clean = method.teacher === 'none' && method.adversarial === false;
  method.dispose();
  return clean;
}

/** Refuses a run directory another live process writes to, naming it; a whole run also waits for shards. */
function refuseIfLocked(out: string, jobsToo: boolean): void {
  const held = liveHolder(runLockPath(out));
  if (held) throw new LockHeldError(`${out} is being written by ${describeHolder(held.holder)} (${runLockPath(out)}); wait for it or stop it first`);
  const jobs = join(out, 'jobs');
  if (!jobsToo || !existsSync(jobs)) return;
  for (const file of readdirSync(jobs, { recursive: true }).map(String)) {
    const shardHolder = file.endsWith('.lock') ? liveHolder(join(jobs, file)) : undefined;
    if (shardHolder) throw new LockHeldError(`${out}: job ${file.slice(0, -'.lock'.length)} is being run by ${describeHolder(shardHolder.holder)} (a shard); wait for the shards first`);
  }
}

/** A run with a diverged job would diverge the same way again: refused with what the job recorded (what to change). */
function refuseIfDiverged(out: string): void {
  const [first, ...more] = divergedJobs(out);
  if (first) throw new ConfigError(`${out}: job ${first.id}`, `diverged in an earlier attempt, so it is not resumed${more.length ? ` (and ${more.length} other job(s))` : ''}: ${first.message.replace(/ \(--resume would diverge the same way\)$/, '')}`);
}

/** The run-state of a directory must come from the same config (after overrides). */
function checkSameRun(out: string, state: RunState | undefined, config: RunConfig): void {
  if (state && JSON.stringify(state.config) !== JSON.stringify(config)) {
    throw new ConfigError(statePath(out), 'was written from a different config (or other --seed/--backend); use the same ones, or --force into this directory');
  }
}

/**
 * Runs a config: checks everything first (plugins, params, output directory, lock), then runs
 * the plan's pending jobs — all of them, or one shard's. Returns the process exit code.
 */
export async function runConfig(config: RunConfig, options: RunCommandOptions): Promise<number> {
  const seeds = options.seed !== undefined ? [options.seed] : config.seeds;
  const effective: RunConfig = { ...config, seeds, backend: options.backend ?? config.backend };
  const { container, pluginModules } = await runContainer(effective, options.baseDir);
  preflight(container, effective);
  const plan = buildPlan(effective, (ref) => teacherUse(container, ref), (ref) => trainsClean(container, ref), (ref) => teacherRolesOf(container, ref));
  if (options.step !== undefined) {
    // A typo in a scheduler script (--step 9 of a 4-step plan) must not pass for success.
    const steps = Math.max(...plan.jobs.map((j) => j.step));
    if (options.step > steps) throw new ConfigError('--step', `this plan has steps 1 to ${steps} (tempered run --plan lists them), got ${options.step}`);
  }
  if (options.printPlan) {
    for (const line of formatPlan(plan)) (options.print ?? options.log)(line);
    return 0;
  }
  // Inputs are loaded and checked before anything is written, so a refusal leaves no trace.
  const backend = await selectBackend(effective.backend);
  const splits = datasetLoader(container, effective);
  const loaded = await splits();
  if (effective.teacher?.path) (await loadTeacher(effective, options.out, loaded)).dispose();
  const { out } = options;
  let lock: Lock | undefined;
  if (options.shard) {
    // Shards share the directory and lock per job; they only refuse a whole run writing into it.
    refuseIfLocked(out, false);
    if (isDirectory(out) === false) throw new OutputExistsError(`${out}: --out is a file; expected a run directory (or a path that does not exist yet)`);
    const state = readRunState(out);
    checkSameRun(out, state, effective);
    refuseIfDiverged(out);
    mkdirSync(out, { recursive: true });
    if (!state) writeJsonAtomic(statePath(out), { version: 2, config: effective, jobs: plan.jobs.map((j) => j.id) } satisfies RunState);
  } else {
    refuseIfLocked(out, true);
    const previous = checkOutputDir(out, options.resume, options.force);
    if (options.resume) {
      checkSameRun(out, previous, effective);
      refuseIfDiverged(out);
    }
    mkdirSync(out, { recursive: true });
    // Taken before anything else is written; a lock left by a dead process is taken over on --resume.
    lock = acquireLock(runLockPath(out), { what: out, takeOverStale: options.resume || options.force });
    process.on('exit', lock.release);
    if (options.force && !options.resume) {
      // Only what Tempered wrote goes; checkOutputDir refused a directory that is not a run.
      const kept = removeRunFiles(out, new Set(['run.lock']));
      if (kept.length > 0) options.log(`--force: kept ${kept.length} file(s) Tempered did not write in ${out}: ${kept.slice(0, 3).join(', ')}${kept.length > 3 ? ', …' : ''}`);
    }
    // A run killed mid-write (SIGKILL) leaves temporary files next to the complete old ones.
    if (options.resume) removeStaleTemporaries(out, { recursive: true });
    writeJsonAtomic(statePath(out), { version: 2, config: effective, jobs: plan.jobs.map((j) => j.id) } satisfies RunState);
  }

  options.log(`backend: ${backend.name} (${backend.source})${backend.fallbacks.length ? `; passed over: ${backend.fallbacks.join('; ')}` : ''}`);
  const stop = new StopSignals(options.log);
  const uninstall = stop.install();
  const stoppedLine = (): string => `stopped by ${stop.signal}; continue with: ${options.resumeCommand}`;
  const ctx = (): JobContext => jobContext(effective, options, container, pluginModules, backend, stop, splits, () => {
    options.log(stoppedLine());
    process.exit(stop.exitCode);
  });
  try {
    if (options.shard) {
      const outcome = await runShardJobs(plan, options.shard, options.step, ctx());
      if (outcome.kind === 'stopped') return options.log(stoppedLine()), stop.exitCode;
      options.log(`shard ${options.shard.index}/${options.shard.count}: ran ${outcome.ran} job(s), ${outcome.skipped} already done`);
      return 0;
    }
    const outcome = await runPending({ plan, runDir: out, parallel: options.jobs ?? availableParallelism(), config: effective, baseDir: options.baseDir, quiet: options.quiet, stop, context: ctx });
    if (outcome === 'stopped') return options.log(stoppedLine()), stop.exitCode;
    options.log(`done: ${join(out, 'results.json')}, report.md, report.html, leaderboard.md, leaderboard.html`);
    return 0;
  } finally {
    uninstall();
    if (lock) {
      lock.release();
      process.off('exit', lock.release);
    }
  }
}

function jobContext(
  config: RunConfig,
  options: RunCommandOptions,
  container: DependencyContainer,
  pluginModules: readonly string[],
  backend: BackendInfo,
  stop: StopSignals,
  splits: JobContext['splits'],
  abortEvaluation: () => void,
): JobContext {
  return {
    config,
    runDir: options.out,
    container,
    pluginModules,
    backend,
    quiet: options.quiet,
    log: options.log,
    stop,
    abortEvaluation,
    splits,
  };
}
