import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verifyModelFiles } from '@tempered/core/node';
import { mergeReports, renderReports } from '@tempered/reports/node';
import { isDone, runReportJob } from './jobs.js';
import { acquireLock, runLockPath } from './lock.js';
import { readRunState } from './run.js';
import { NotReadyError } from './shard.js';

/**
 * Checks the integrity of every saved model of a run directory (its own models/ and its seeds'):
 * a report describes models, so one whose weights were damaged after evaluation (checksum
 * mismatch) or hold NaN is refused naming the file instead of reported.
 */
export function verifyRunModels(dir: string): void {
  const roots = [dir, ...(existsSync(dir) ? readdirSync(dir).filter((d) => /^seed-\d+$/.test(d)).map((d) => join(dir, d)) : [])];
  for (const root of roots) {
    const models = join(root, 'models');
    if (!existsSync(models)) continue;
    for (const name of readdirSync(models)) if (existsSync(join(models, name, 'model.json'))) verifyModelFiles(join(models, name));
  }
}

/**
 * A run directory written by jobs (shards included): assembles the results once every job but
 * the report is done, else says which are missing (exit 75, as a shard waiting on others).
 */
function assembleRun(dir: string, io: { out: (s: string) => void }): number {
  const state = readRunState(dir)!;
  const missing = state.jobs.filter((id) => id !== 'report' && !isDone(dir, id));
  if (missing.length > 0) throw new NotReadyError(`${dir}: ${missing.length} job(s) not done yet: ${missing.join(', ')}; run their shards (or tempered run --resume) first`);
  const lock = acquireLock(runLockPath(dir), { what: dir, takeOverStale: true });
  try {
    if (state.config.seeds.length > 1) runReportJob({ kind: 'report', id: 'report', seeds: state.config.seeds, dependsOn: [], writes: [], step: 0 }, dir);
    else renderReports(dir);
  } finally {
    lock.release();
  }
  io.out(`wrote ${join(dir, 'results.json')}, report.md, report.html, leaderboard.md and leaderboard.html`);
  return 0;
}

/** `tempered report <dir>...`: assemble or re-render one run, or merge several into `out`. */
export function reportCommand(dirs: string[], out: string | undefined, io: { out: (s: string) => void }): number {
  for (const dir of dirs) verifyRunModels(dir);
  if (dirs.length === 1 && (!out || resolve(out) === resolve(dirs[0]!))) {
    if (existsSync(join(dirs[0]!, 'run-state.json'))) return assembleRun(dirs[0]!, io);
    renderReports(dirs[0]!);
    io.out(`wrote ${dirs[0]}/report.md, report.html, leaderboard.md and leaderboard.html`);
    return 0;
  }
  const target = out ?? dirs[0]!;
  mergeReports(dirs, target);
  io.out(`merged ${dirs.length} runs into ${target}/results.json, report.md, report.html, leaderboard.md and leaderboard.html`);
  return 0;
}
