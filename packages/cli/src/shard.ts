import { TemperedError } from '@tempered/core/node';
import { dependenciesDone, isDone, jobLockPath, runJob, type JobContext } from './jobs.js';
import { LockHeldError, acquireLock } from './lock.js';
import { shardJobs, type Job, type Plan, type Shard } from './plan.js';

/**
 * `--shard I/N`: the jobs of shard I whose dependencies are done, each under its own lock, so
 * shards of one run (array tasks of a scheduler, on any machines sharing the run directory) never
 * run a job twice and never wait on each other: a job whose dependencies are not done is left for
 * a later invocation, and the shard says so with its own exit code.
 */

/** Exit code of a shard that has jobs whose dependencies are not done (EX_TEMPFAIL, sysexits.h). */
export const NOT_READY_EXIT = 75;

export class NotReadyError extends TemperedError {
  override readonly exitCode = NOT_READY_EXIT;
}

export type ShardOutcome = { readonly kind: 'done'; readonly ran: number; readonly skipped: number } | { readonly kind: 'stopped' };

export async function runShardJobs(plan: Plan, shard: Shard, step: number | undefined, ctx: JobContext): Promise<ShardOutcome> {
  const label = `shard ${shard.index}/${shard.count}${step === undefined ? '' : ` (step ${step})`}`;
  const owned = shardJobs(plan, shard, step);
  const waiting: Job[] = [];
  const held: string[] = [];
  let ran = 0;
  let skipped = 0;
  for (const job of owned) {
    if (isDone(ctx.runDir, job.id)) {
      skipped++;
      continue;
    }
    if (!dependenciesDone(ctx.runDir, job)) {
      waiting.push(job);
      continue;
    }
    let lock;
    try {
      lock = acquireLock(jobLockPath(ctx.runDir, job.id), { what: `job ${job.id}`, takeOverStale: true });
    } catch (error) {
      if (!(error instanceof LockHeldError)) throw error;
      held.push(error.message);
      continue;
    }
    // An evaluation stopped by a signal exits the process from its handler: the lock goes too.
    process.on('exit', lock.release);
    try {
      // Another shard may have finished it between our check and our lock.
      if (isDone(ctx.runDir, job.id)) {
        skipped++;
        continue;
      }
      ctx.log(`${label}: ${job.id}`);
      if (!(await runJob(job, ctx))) return { kind: 'stopped' };
      ran++;
    } finally {
      lock.release();
      process.off('exit', lock.release);
    }
  }
  if (held.length > 0) throw new LockHeldError(`${label}: ${held.join('; ')}`);
  if (waiting.length > 0) {
    const what = waiting.map((j) => `${j.id} (after ${j.dependsOn.filter((d) => !isDone(ctx.runDir, d)).join(', ')})`).join('; ');
    throw new NotReadyError(`${label}: ${waiting.length} job(s) wait for dependencies not done yet: ${what}; run this shard again once they are done`);
  }
  return { kind: 'done', ran, skipped };
}
